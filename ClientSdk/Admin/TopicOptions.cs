using Granary.Grains;

namespace Granary.Client;

/// <summary>Settings of a new topic.</summary>
public sealed class TopicOptions
{
    /// <summary>Number of partitions (order holds per partition, consumers scale with them). Default 1.</summary>
    public int Partitions { get; set; } = 1;

    /// <summary>Largest message (payload + key + headers) in bytes. Default 1 MiB.</summary>
    public int MaxMessageBytes { get; set; } = 1 << 20;

    /// <summary>Keep messages at least this long; older log segments are deleted. Default: forever.</summary>
    public TimeSpan? RetentionTime { get; set; }

    /// <summary>Delete the oldest log segments while a partition is larger than this. Default: no limit.</summary>
    public long? RetentionBytes { get; set; }

    /// <summary>Time to live of messages sent without their own. Default: messages never expire.</summary>
    public TimeSpan? DefaultTimeToLive { get; set; }

    /// <summary>What happens to a message that expires unacknowledged. Default: dead-lettered with reason <c>expired</c>.</summary>
    public ExpiredMessageAction ExpiredMessages { get; set; } = ExpiredMessageAction.DeadLetter;

    /// <summary>What retention does to a backlog groups have not acknowledged. Default <see cref="OverflowPolicy.DropOldest"/>.</summary>
    public OverflowPolicy Overflow { get; set; } = OverflowPolicy.DropOldest;

    /// <summary>A message whose <see cref="OutgoingMessage.MessageId"/> was stored within this window is not stored again. Default: off.</summary>
    public TimeSpan? DedupWindow { get; set; }

    /// <summary>Copies of each partition, on distinct silos. Default: the silos' default (3 in cluster mode, 1 embedded), at most the number of silos.</summary>
    public int? ReplicationFactor { get; set; }

    /// <summary>Replicas that must hold a message before an <see cref="Acks.All"/> send is confirmed. Default 2 when replicated, else 1.</summary>
    public int? MinInSyncReplicas { get; set; }

    internal TopicConfig ToConfig() => new()
    {
        Partitions = Partitions,
        MaxMessageBytes = MaxMessageBytes,
        RetentionTime = RetentionTime,
        RetentionBytes = RetentionBytes,
        DefaultTimeToLive = DefaultTimeToLive,
        ExpiredMessages = ExpiredMessages,
        Overflow = Overflow,
        DedupWindow = DedupWindow,
        ReplicationFactor = ReplicationFactor,
        MinInSyncReplicas = MinInSyncReplicas,
    };
}
