namespace Granary.Grains;

/// <summary>
/// What a fetch found: the stored batches exactly as the log holds them (one buffer, no per-message objects; decode
/// them with the record-batch reader). The first batch may start before <see cref="FromOffset"/> and the last may go
/// on after <see cref="NextOffset"/>: the records meant are those with offsets in [FromOffset, NextOffset).
/// </summary>
/// <param name="Batches">Consecutive whole batches; empty when nothing was found.</param>
/// <param name="FromOffset">The first offset meant (the requested one, or the partition's start when that is later).</param>
/// <param name="NextOffset">Where the next fetch should start: after the last record meant (at most the fetch's maxMessages of them).</param>
/// <param name="StartOffset">The partition's first retained offset.</param>
/// <param name="EndOffset">The partition's confirmed end.</param>
[GenerateSerializer, Immutable, Alias("granary.FetchResult")]
public sealed record FetchResult(
    [property: Id(0)] ReadOnlyMemory<byte> Batches,
    [property: Id(5)] long FromOffset,
    [property: Id(1)] long NextOffset,
    [property: Id(2)] long StartOffset,
    [property: Id(3)] long EndOffset)
{
    /// <summary>
    /// Set when the fetch started at offsets whose records are lost (a missing segment file or damaged data, see
    /// <see cref="PartitionInfo.Gaps"/>): offsets [<see cref="LostFromOffset"/>, <see cref="NextOffset"/>) cannot be
    /// delivered, and <see cref="Batches"/> is empty. The reader counts them as skipped and goes on at NextOffset.
    /// </summary>
    [Id(4)] public long? LostFromOffset { get; init; }

    /// <summary>True when the fetch brought no records (at the end of the partition, or over lost ones).</summary>
    public bool IsEmpty => Batches.IsEmpty;
}

/// <summary>
/// What a pull leased to one member: the leased records copied verbatim from the stored batches, regrouped into
/// batches of contiguous offsets (each under its source batch's header, patched), and per record its lease. The
/// records in <see cref="Records"/> are exactly those of <see cref="Leases"/>, in the same order.
/// </summary>
/// <param name="Partition">Partition number.</param>
/// <param name="Records">Consecutive whole batches holding the leased records in offset order.</param>
/// <param name="Leases">Offset, attempt and lease id of each leased record, in the order of <paramref name="Records"/>.</param>
[GenerateSerializer, Immutable, Alias("granary.PullResult")]
public sealed record PullResult([property: Id(0)] int Partition, [property: Id(1)] ReadOnlyMemory<byte> Records, [property: Id(2)] LeasedRecord[] Leases)
{
    /// <summary>A pull that leased nothing.</summary>
    public static PullResult Empty(int partition) => new(partition, ReadOnlyMemory<byte>.Empty, []);

    /// <summary>Number of leased records.</summary>
    public int Count => Leases.Length;
}

/// <summary>One record leased to a group member.</summary>
/// <param name="Offset">The record's offset.</param>
/// <param name="Attempt">
/// 1 for the first delivery, raised on every redelivery after a nack, a lease expiry or a member leaving. A delivery
/// that the cursor took back to keep the order (an earlier message of the partition or key was nacked) does not
/// count: the message comes again with the same attempt number.
/// </param>
/// <param name="LeaseId">
/// Identifies this delivery's lease. Acks, nacks, rejects and lease extensions name it (<see cref="LeaseRef"/>), so
/// that one answering an older delivery of the same message is refused instead of settling the current holder's.
/// </param>
[GenerateSerializer, Immutable, Alias("granary.LeasedRecord")]
public readonly record struct LeasedRecord([property: Id(0)] long Offset, [property: Id(1)] int Attempt, [property: Id(2)] long LeaseId)
{
    /// <summary>This delivery as acks and nacks name it.</summary>
    public LeaseRef Ref => new(Offset, LeaseId);
}
