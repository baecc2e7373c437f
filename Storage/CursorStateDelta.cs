namespace Granary.Storage;

/// <summary>
/// What changed in a cursor's saved state since the previous frame of its <see cref="CursorStateLog"/>: the committed
/// offset and the counters as they are now, and the current status of every offset whose status changed. Replayed
/// over the snapshot and the deltas before it, the offsets below <see cref="Committed"/> are dropped.
/// </summary>
internal sealed class CursorStateDelta
{
    /// <summary>Every offset below this one is done.</summary>
    public long Committed { get; set; }

    /// <summary>Messages expired so far.</summary>
    public long Expired { get; set; }

    /// <summary>Messages dead-lettered so far.</summary>
    public long DeadLettered { get; set; }

    /// <summary>Messages skipped so far.</summary>
    public long Skipped { get; set; }

    /// <summary>The changed offsets with their status now, ascending by offset.</summary>
    public List<CursorOffsetStatus> Offsets { get; init; } = [];
}

/// <summary>
/// The saved status of one offset: acknowledged (done), or not, with how often it was delivered (0: never) and a
/// pending nack delay (Unix ms), if any.
/// </summary>
internal readonly record struct CursorOffsetStatus(long Offset, bool Acked, int Attempts, long? RetryAtMs);
