namespace Granary.Grains;

/// <summary>How a consumer group hands a partition's messages to its members.</summary>
public enum DeliveryMode
{
    /// <summary>Any member gets any message: the most parallel, no order between members.</summary>
    Shared = 0,
    /// <summary>
    /// Each partition is assigned to one member at a time; joins, leaves and missed heartbeats rebalance. A message
    /// given back (nack, expired lease) is delivered again before anything after it on that partition.
    /// </summary>
    Ordered = 1,
    /// <summary>
    /// Many members share a partition, but all messages of one key go to one member at a time, in order. Messages
    /// without a key are shared freely.
    /// </summary>
    KeyShared = 2,
}

/// <summary>The settings of a consumer group, given by its members when they join.</summary>
[GenerateSerializer, Immutable, Alias("granary.GroupSettings")]
public sealed record GroupSettings
{
    /// <summary>Where the group starts when it is created. Fixed at creation.</summary>
    [Id(0)] public StartPosition StartPosition { get; init; } = StartPosition.Earliest;

    /// <summary>Delivery mode. A member asking for another mode than the group's is refused while others are connected.</summary>
    [Id(1)] public DeliveryMode Mode { get; init; } = DeliveryMode.Shared;

    /// <summary>Deliveries of one message before it goes to the dead-letter topic; null never dead-letters. Default 20.</summary>
    [Id(2)] public int? MaxDeliveries { get; init; } = 20;

    /// <summary>Dead-letter topic; null for <c>{topic}.{group}.dlq</c>.</summary>
    [Id(3)] public string? DeadLetterTopic { get; init; }

    /// <summary>The dead-letter topic of <paramref name="group"/> on <paramref name="topic"/> under these settings.</summary>
    public string DeadLetterTopicOf(string topic, string group) => DeadLetterTopic ?? $"{topic}.{group}.dlq";

    /// <summary>Throws <see cref="GranaryException"/> (<see cref="ErrorCode.InvalidArgument"/> or <see cref="ErrorCode.InvalidName"/>) for bad settings.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(StartPosition) || !Enum.IsDefined(Mode))
            throw new GranaryException(ErrorCode.InvalidArgument, "Unknown start position or delivery mode.");
        if (MaxDeliveries is < 1)
            throw new GranaryException(ErrorCode.InvalidArgument, $"MaxDeliveries must be at least 1; it is {MaxDeliveries}.");
        if (DeadLetterTopic is not null) Names.Validate(DeadLetterTopic, "dead-letter topic");
    }
}

/// <summary>What a cursor needs from its group: where to start, how to deliver, and (Ordered) which member owns it.</summary>
/// <param name="StartOffset">Where the cursor starts when it has no state; null: the earliest retained offset.</param>
/// <param name="Settings">The group's settings.</param>
/// <param name="Owner">Under <see cref="DeliveryMode.Ordered"/>, the member the partition is assigned to (null: none).</param>
[GenerateSerializer, Immutable, Alias("granary.CursorSetup")]
public sealed record CursorSetup([property: Id(0)] long? StartOffset, [property: Id(1)] GroupSettings Settings, [property: Id(2)] string? Owner);

/// <summary>What a member learns from a heartbeat.</summary>
/// <param name="IsMember">False when the group no longer knows the member: it must join again.</param>
/// <param name="Partitions">The topic's partition count now (partitions can be added to a live topic).</param>
[GenerateSerializer, Immutable, Alias("granary.HeartbeatResult")]
public sealed record HeartbeatResult([property: Id(0)] bool IsMember, [property: Id(1)] int Partitions);
