using Granary.Grains;

namespace Granary.Client;

/// <summary>Settings of a consumer.</summary>
public sealed class ConsumerOptions
{
    /// <summary>
    /// How long a delivered message stays leased to this consumer; unacknowledged after that, it is redelivered (to
    /// any member) with its delivery attempt raised. Default 30 s.
    /// </summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Most messages this consumer holds unacknowledged, prefetched ones included, shared evenly by the partitions
    /// (at least one each). Default 256.
    /// </summary>
    public int MaxPrefetch { get; set; } = 256;

    /// <summary>Where a group that does not exist yet starts. Default <see cref="StartPosition.Earliest"/>.</summary>
    public StartPosition StartPosition { get; set; } = StartPosition.Earliest;

    /// <summary>How often the consumer tells its group it is alive. Default 5 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest a pull waits on the broker for new messages before asking again. Default 5 s.</summary>
    public TimeSpan PollWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How the group hands out messages; fixed by the first member (a member asking for another mode is refused while
    /// others are connected). Default <see cref="DeliveryMode.Shared"/>.
    /// </summary>
    public DeliveryMode Mode { get; set; } = DeliveryMode.Shared;

    /// <summary>
    /// Deliveries of one message before the group sends it to its dead-letter topic; null never dead-letters.
    /// Default 20. The latest member to join sets it for the group.
    /// </summary>
    public int? MaxDeliveries { get; set; } = 20;

    /// <summary>The group's dead-letter topic; null for <c>{topic}.{group}.dlq</c>. Created on first use.</summary>
    public string? DeadLetterTopic { get; set; }

    /// <summary>Most messages per second this consumer receives (peak shaving); null for no limit. Default null.</summary>
    public double? MaxMessagesPerSecond { get; set; }

    internal GroupSettings ToGroupSettings() => new()
    {
        StartPosition = StartPosition,
        Mode = Mode,
        MaxDeliveries = MaxDeliveries,
        DeadLetterTopic = DeadLetterTopic,
    };

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(AckTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPrefetch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HeartbeatInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(PollWait, TimeSpan.Zero);
        if (MaxMessagesPerSecond is { } rate && (double.IsNaN(rate) || rate <= 0))
            throw new ArgumentOutOfRangeException(nameof(MaxMessagesPerSecond), "MaxMessagesPerSecond must be positive.");
        ToGroupSettings().Validate();
        if (PollWait > TimeSpan.FromSeconds(20)) throw new ArgumentOutOfRangeException(nameof(PollWait), "PollWait must stay below the 30 s grain call timeout; use at most 20 s.");
    }
}
