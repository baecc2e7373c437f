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

    /// <summary>
    /// The pooled array <see cref="Batches"/> is in, when the partition handed it over rather than a copy (a fetch in the
    /// partition's own silo: the result is passed by reference). Not serialized: a result read from the wire has an
    /// array of its own. Whoever reads the batches claims it (<see cref="TakeBuffer"/>) and releases it when done.
    /// </summary>
    internal FetchedBuffer? Buffer { get => _buffer; init => _buffer = value; }

    [NonSerialized]
    private readonly FetchedBuffer? _buffer;

    /// <summary>
    /// The reference to <see cref="Buffer"/> this result holds, for the first caller only (null for every later one and
    /// for a result without a pooled buffer): the caller releases it once nothing reads <see cref="Batches"/> any more.
    /// Without a claim the array is left to the garbage collector.
    /// </summary>
    internal FetchedBuffer? TakeBuffer() => Buffer is { } buffer && buffer.TryClaim() ? buffer : null;

    /// <summary>True when the fetch brought no records (at the end of the partition, or over lost ones).</summary>
    public bool IsEmpty => Batches.IsEmpty;
}
