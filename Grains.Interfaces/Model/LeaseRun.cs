namespace Granary.Grains;

/// <summary>
/// Deliveries named as a run, for acks: offsets <see cref="Offset"/> to <see cref="Offset"/> + <see cref="Count"/> - 1
/// with lease ids <see cref="LeaseId"/> to <see cref="LeaseId"/> + <see cref="Count"/> - 1 (the i-th offset with the
/// i-th lease id). A pull leases consecutive offsets under consecutive lease ids, so the acks of a whole pull (often of
/// many pulls) are one run: an ack call costs the cursor no object per message, as a <see cref="LeaseRef"/> each did.
/// </summary>
/// <param name="Offset">The first delivery's offset.</param>
/// <param name="LeaseId">The first delivery's lease id.</param>
/// <param name="Count">How many deliveries (at least 1).</param>
[GenerateSerializer, Immutable, Alias("granary.LeaseRun")]
public readonly record struct LeaseRun([property: Id(0)] long Offset, [property: Id(1)] long LeaseId, [property: Id(2)] int Count)
{
    /// <summary>Most deliveries one ack call may name over all its runs (the SDK sends at most 4,096 settlements a pass).</summary>
    public const int MaxPerCall = 1 << 20;

    /// <summary>
    /// <paramref name="deliveries"/> as runs: in offset order, each run as long as offsets and lease ids both go up by
    /// one. Every delivery is in exactly one run; a delivery named twice is named twice.
    /// </summary>
    public static LeaseRun[] From(IReadOnlyCollection<LeaseRef> deliveries)
    {
        if (deliveries.Count == 0) return [];
        var sorted = deliveries.ToArray();
        Array.Sort(sorted, static (a, b) => a.Offset != b.Offset ? a.Offset.CompareTo(b.Offset) : a.LeaseId.CompareTo(b.LeaseId));
        var runs = new List<LeaseRun>();
        var run = new LeaseRun(sorted[0].Offset, sorted[0].LeaseId, 1);
        for (int i = 1; i < sorted.Length; i++)
        {
            var next = sorted[i];
            if (run.Count < int.MaxValue && next.Offset == run.Offset + run.Count && next.LeaseId == run.LeaseId + run.Count)
            {
                run = run with { Count = run.Count + 1 };
                continue;
            }
            runs.Add(run);
            run = new LeaseRun(next.Offset, next.LeaseId, 1);
        }
        runs.Add(run);
        return [.. runs];
    }
}
