namespace Granary.Storage;

/// <summary>
/// The whole saved state of one consumer group on one partition (the first frame of a <see cref="CursorStateLog"/>):
/// every offset below <see cref="Committed"/> is done; above it the acknowledged ranges, how often each unacknowledged
/// offset was delivered, pending nack delays, and the counters.
/// </summary>
internal sealed class CursorStateSnapshot
{
    /// <summary>Every offset below this one is done.</summary>
    public long Committed { get; set; }

    /// <summary>Acknowledged (or otherwise done) offsets above <see cref="Committed"/>: ascending, disjoint [start, end) ranges.</summary>
    public List<(long Start, long End)> Acked { get; init; } = [];

    /// <summary>How often each unacknowledged offset was delivered (leased ones included).</summary>
    public Dictionary<long, int> Attempts { get; init; } = [];

    /// <summary>Nacked with a delay: offset → not before (Unix ms).</summary>
    public Dictionary<long, long> RetryAt { get; init; } = [];

    /// <summary>Messages expired so far.</summary>
    public long Expired { get; set; }

    /// <summary>Messages dead-lettered so far.</summary>
    public long DeadLettered { get; set; }

    /// <summary>Messages skipped so far (retention, lost records).</summary>
    public long Skipped { get; set; }
}
