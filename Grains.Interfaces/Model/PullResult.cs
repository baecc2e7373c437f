namespace Granary.Grains;

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
