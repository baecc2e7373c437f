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

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(AckTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPrefetch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HeartbeatInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(PollWait, TimeSpan.Zero);
        if (PollWait > TimeSpan.FromSeconds(20)) throw new ArgumentOutOfRangeException(nameof(PollWait), "PollWait must stay below the 30 s grain call timeout; use at most 20 s.");
    }
}
