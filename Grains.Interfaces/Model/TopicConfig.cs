namespace Granary.Client;

/// <summary>The settings of a topic, fixed at creation (partitions can be added later).</summary>
[GenerateSerializer, Immutable, Alias("granary.TopicConfig")]
public sealed record TopicConfig
{
    /// <summary>Number of partitions; at least 1.</summary>
    [Id(0)] public int Partitions { get; init; } = 1;

    /// <summary>Largest message (payload + key + headers) accepted, in bytes. Default 1 MiB.</summary>
    [Id(1)] public int MaxMessageBytes { get; init; } = 1 << 20;

    /// <summary>Delete whole log segments older than this; null keeps them.</summary>
    [Id(2)] public TimeSpan? RetentionTime { get; init; }

    /// <summary>Delete the oldest log segments while a partition is larger than this; null for no limit.</summary>
    [Id(3)] public long? RetentionBytes { get; init; }

    /// <summary>Time to live of messages sent without their own; null: they never expire.</summary>
    [Id(4)] public TimeSpan? DefaultTimeToLive { get; init; }

    /// <summary>What happens to a message that expires before it is acknowledged. Default: dead-lettered.</summary>
    [Id(5)] public ExpiredMessageAction ExpiredMessages { get; init; } = ExpiredMessageAction.DeadLetter;

    /// <summary>What retention does to messages a consumer group has not acknowledged yet. Default <see cref="OverflowPolicy.DropOldest"/>.</summary>
    [Id(6)] public OverflowPolicy Overflow { get; init; } = OverflowPolicy.DropOldest;

    /// <summary>
    /// A message sent with a message id that the partition stored within this window is not stored again; null turns
    /// the check off.
    /// </summary>
    [Id(7)] public TimeSpan? DedupWindow { get; init; }

    /// <summary>
    /// Copies of each partition, each on its own silo; null at creation takes the silo's default (3 in cluster mode,
    /// 1 embedded), capped by the number of silos then.
    /// </summary>
    [Id(8)] public int? ReplicationFactor { get; init; }

    /// <summary>
    /// Replicas (the leader among them) that must hold a batch durably before an <see cref="Acks.All"/> append is
    /// confirmed; fewer reachable replicas make appends fail with <see cref="GranaryErrorCode.NotEnoughReplicas"/>. Null at
    /// creation: 2 when replicated, else 1.
    /// </summary>
    [Id(9)] public int? MinInSyncReplicas { get; init; }

    /// <summary>
    /// The topic's identity, set by the broker when the topic is created (a value in a create request is ignored, and
    /// alters keep it): a topic deleted and created again under the same name has a new incarnation, and its partition
    /// logs, groups and cursors start empty instead of adopting the earlier topic's. Null for a topic created before
    /// incarnations existed (its data stays where it was written).
    /// </summary>
    [Id(10)] public string? Incarnation { get; init; }

    /// <summary>The replication factor in force (1 when unset).</summary>
    public int Replicas => ReplicationFactor ?? 1;

    /// <summary>The minimum in-sync replicas in force (1 when unset).</summary>
    public int MinReplicas => MinInSyncReplicas ?? 1;

    /// <summary>Longest <see cref="DefaultTimeToLive"/>: 36,525 days (100 years), as for a message's own time to live.</summary>
    public static readonly TimeSpan MaxDefaultTimeToLive = TimeSpan.FromDays(36_525);

    /// <summary>Throws <see cref="GranaryException"/> (<see cref="GranaryErrorCode.InvalidArgument"/>) for settings out of range.</summary>
    public void Validate()
    {
        if (Partitions is < 1 or > 10_000)
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"A topic needs between 1 and 10000 partitions; {Partitions} were asked for.");
        if (MaxMessageBytes is < 1 or > 64 << 20)
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"MaxMessageBytes must be between 1 and {64 << 20}; it is {MaxMessageBytes}.");
        if (RetentionTime is { } time && time <= TimeSpan.Zero)
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"RetentionTime must be positive; it is {time}.");
        if (RetentionBytes is < 0)
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"RetentionBytes must not be negative; it is {RetentionBytes}.");
        // Capped as a message's own TTL is (OutgoingMessage.MaxTimeToLiveOrDelay): a longer one puts expiry times past
        // what DateTimeOffset can show to consumers.
        if (DefaultTimeToLive is { } ttl && (ttl <= TimeSpan.Zero || ttl > MaxDefaultTimeToLive))
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"DefaultTimeToLive must be positive and at most {MaxDefaultTimeToLive.TotalDays} days; it is {ttl}.");
        if (DedupWindow is { } window && (window <= TimeSpan.Zero || window > TimeSpan.FromDays(7)))
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"DedupWindow must be positive and at most 7 days; it is {window}.");
        if (ReplicationFactor is < 1 or > 7)
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"ReplicationFactor must be between 1 and 7; it is {ReplicationFactor}.");
        if (MinInSyncReplicas is { } min && (min < 1 || min > (ReplicationFactor ?? 7)))
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"MinInSyncReplicas must be between 1 and the replication factor; it is {min}.");
        if (!Enum.IsDefined(ExpiredMessages) || !Enum.IsDefined(Overflow))
            throw new GranaryException(GranaryErrorCode.InvalidArgument, "Unknown ExpiredMessages or Overflow value.");
    }
}

/// <summary>What happens to a message whose time to live ran out before a group acknowledged it.</summary>
public enum ExpiredMessageAction
{
    /// <summary>It goes to the group's dead-letter topic with reason <c>expired</c>.</summary>
    DeadLetter = 0,
    /// <summary>It is dropped (and counted).</summary>
    Drop = 1,
}

/// <summary>What a partition does when retention would delete messages a consumer group has not acknowledged.</summary>
public enum OverflowPolicy
{
    /// <summary>Retention deletes the oldest segments anyway; groups behind them skip ahead and the skipped count is recorded.</summary>
    DropOldest = 0,
    /// <summary>
    /// Unacknowledged messages are kept; publishers get <see cref="GranaryErrorCode.QueueFull"/> (retriable) while the
    /// partition is at its size limit or retention is held back by a group's backlog.
    /// </summary>
    RejectPublish = 1,
}
