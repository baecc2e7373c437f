using Granary.Grains.Hosting.StateFiles;

namespace Granary.Grains.Cursors;

/// <summary>
/// What a cursor persists: every offset below <see cref="CommittedOffset"/> is done, plus the acknowledged offsets
/// above it, how often each unacknowledged offset was delivered, pending nack delays and the counters. Leases are
/// not persisted: after a restart every unacknowledged message is delivered again, with its attempt count raised.
/// </summary>
[GenerateSerializer, Alias("granary.CursorState")]
internal sealed class CursorState : IRecoverableState
{
    [Id(0)] public long? CommittedOffset { get; set; }
    [Id(1)] public List<long> AckedAbove { get; set; } = [];
    [Id(2)] public Dictionary<long, int> Attempts { get; set; } = [];
    /// <summary>Nacked with a delay: offset → not before (Unix ms).</summary>
    [Id(3)] public Dictionary<long, long> RetryAt { get; set; } = [];
    [Id(4)] public long Expired { get; set; }
    [Id(5)] public long DeadLettered { get; set; }
    [Id(6)] public long Skipped { get; set; }

    /// <summary>
    /// Set by the storage (never stored) when the cursor's file was damaged with no good copy: the cursor then starts
    /// again from the partition's earliest retained offset (redelivering rather than skipping).
    /// </summary>
    public StateFileDamage? Damage { get => _damage; set => _damage = value; }

    [NonSerialized] private StateFileDamage? _damage;
}
