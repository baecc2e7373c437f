using Granary.Grains;

namespace Granary.Client;

/// <summary>
/// Settings of a new topic. Remembers which settings were set: <see cref="GranaryAdmin.CreateTopicIfMissingAsync"/>
/// compares only those with an existing topic.
/// </summary>
public sealed class TopicOptions
{
    private Setting _set;
    private int _partitions = 1;
    private int _maxMessageBytes = 1 << 20;
    private TimeSpan? _retentionTime;
    private long? _retentionBytes;
    private TimeSpan? _defaultTimeToLive;
    private ExpiredMessageAction _expiredMessages = ExpiredMessageAction.DeadLetter;
    private OverflowPolicy _overflow = OverflowPolicy.DropOldest;
    private TimeSpan? _dedupWindow;
    private int? _replicationFactor;
    private int? _minInSyncReplicas;

    /// <summary>Number of partitions (order holds per partition, consumers scale with them). Default 1.</summary>
    public int Partitions { get => _partitions; set => Set(ref _partitions, value, Setting.Partitions); }

    /// <summary>Largest message (payload + key + headers) in bytes. Default 1 MiB.</summary>
    public int MaxMessageBytes { get => _maxMessageBytes; set => Set(ref _maxMessageBytes, value, Setting.MaxMessageBytes); }

    /// <summary>Keep messages at least this long; older log segments are deleted. Default: forever.</summary>
    public TimeSpan? RetentionTime { get => _retentionTime; set => Set(ref _retentionTime, value, Setting.RetentionTime); }

    /// <summary>Delete the oldest log segments while a partition is larger than this. Default: no limit.</summary>
    public long? RetentionBytes { get => _retentionBytes; set => Set(ref _retentionBytes, value, Setting.RetentionBytes); }

    /// <summary>Time to live of messages sent without their own. Default: messages never expire.</summary>
    public TimeSpan? DefaultTimeToLive { get => _defaultTimeToLive; set => Set(ref _defaultTimeToLive, value, Setting.DefaultTimeToLive); }

    /// <summary>What happens to a message that expires unacknowledged. Default: dead-lettered with reason <c>expired</c>.</summary>
    public ExpiredMessageAction ExpiredMessages { get => _expiredMessages; set => Set(ref _expiredMessages, value, Setting.ExpiredMessages); }

    /// <summary>What retention does to a backlog groups have not acknowledged. Default <see cref="OverflowPolicy.DropOldest"/>.</summary>
    public OverflowPolicy Overflow { get => _overflow; set => Set(ref _overflow, value, Setting.Overflow); }

    /// <summary>A message whose <see cref="OutgoingMessage.MessageId"/> was stored within this window is not stored again. Default: off.</summary>
    public TimeSpan? DedupWindow { get => _dedupWindow; set => Set(ref _dedupWindow, value, Setting.DedupWindow); }

    /// <summary>Copies of each partition, on distinct silos. Default: the silos' default (3 in cluster mode, 1 embedded), at most the number of silos.</summary>
    public int? ReplicationFactor { get => _replicationFactor; set => Set(ref _replicationFactor, value, Setting.ReplicationFactor); }

    /// <summary>Replicas that must hold a message before an <see cref="Acks.All"/> send is confirmed. Default 2 when replicated, else 1.</summary>
    public int? MinInSyncReplicas { get => _minInSyncReplicas; set => Set(ref _minInSyncReplicas, value, Setting.MinInSyncReplicas); }

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

    /// <summary>
    /// The settings that were set on these options and differ in <paramref name="existing"/>, as
    /// "<c>Name</c> is existing, not asked" texts; empty when the existing topic has every setting that was set.
    /// Settings left unset took the server's defaults and are no conflict.
    /// </summary>
    internal List<string> DifferencesFrom(TopicConfig existing)
    {
        var differences = new List<string>();
        Compare(Setting.Partitions, Partitions, existing.Partitions);
        Compare(Setting.MaxMessageBytes, MaxMessageBytes, existing.MaxMessageBytes);
        Compare(Setting.RetentionTime, RetentionTime, existing.RetentionTime);
        Compare(Setting.RetentionBytes, RetentionBytes, existing.RetentionBytes);
        Compare(Setting.DefaultTimeToLive, DefaultTimeToLive, existing.DefaultTimeToLive);
        Compare(Setting.ExpiredMessages, ExpiredMessages, existing.ExpiredMessages);
        Compare(Setting.Overflow, Overflow, existing.Overflow);
        Compare(Setting.DedupWindow, DedupWindow, existing.DedupWindow);
        Compare(Setting.ReplicationFactor, ReplicationFactor, existing.ReplicationFactor);
        Compare(Setting.MinInSyncReplicas, MinInSyncReplicas, existing.MinInSyncReplicas);
        return differences;

        void Compare<T>(Setting setting, T asked, T actual)
        {
            if ((_set & setting) != 0 && !EqualityComparer<T>.Default.Equals(asked, actual))
                differences.Add($"{setting} is {Show(actual)}, not {Show(asked)}");
        }
    }

    private static string Show<T>(T value) => value?.ToString() ?? "unset";

    private void Set<T>(ref T field, T value, Setting setting)
    {
        field = value;
        _set |= setting;
    }

    [Flags]
    private enum Setting
    {
        Partitions = 1 << 0,
        MaxMessageBytes = 1 << 1,
        RetentionTime = 1 << 2,
        RetentionBytes = 1 << 3,
        DefaultTimeToLive = 1 << 4,
        ExpiredMessages = 1 << 5,
        Overflow = 1 << 6,
        DedupWindow = 1 << 7,
        ReplicationFactor = 1 << 8,
        MinInSyncReplicas = 1 << 9,
    }
}
