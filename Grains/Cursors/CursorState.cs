namespace Granary.Grains.Cursors;

/// <summary>
/// What a cursor persists: every offset below <see cref="CommittedOffset"/> is acknowledged, plus the acknowledged
/// offsets above it and how often each unacknowledged offset was delivered. Leases are not persisted: after a
/// restart every unacknowledged message is delivered again, with its attempt count raised.
/// </summary>
[GenerateSerializer, Alias("granary.CursorState")]
internal sealed class CursorState
{
    [Id(0)] public long? CommittedOffset { get; set; }
    [Id(1)] public List<long> AckedAbove { get; set; } = [];
    [Id(2)] public Dictionary<long, int> Attempts { get; set; } = [];
}
