namespace Granary.Grains;

/// <summary>
/// One append: a small fixed header and the messages as one encoded record batch (format version 2, see
/// <c>Granary.Records.RecordBatchCodec</c>), as the producer encoded it. Immutable on the wire: no per-message object
/// crosses it or is deep-copied. The partition checks that the records agree with this header.
/// </summary>
/// <param name="Records">The encoded batch: record timestamp deltas 0, each record's time to live as its expiry delta,
/// a deliver-at as a delay (deliver delta), producer id and sequence per record when <see cref="ProducerId"/> is set.</param>
/// <param name="RecordCount">Number of records in <paramref name="Records"/>.</param>
[GenerateSerializer, Immutable, Alias("granary.ProduceBatch")]
public sealed record ProduceBatch([property: Id(0)] ReadOnlyMemory<byte> Records, [property: Id(1)] int RecordCount)
{
    /// <summary>Id of the idempotent producer that sent the batch; 0 when the producer is not idempotent.</summary>
    [Id(2)] public long ProducerId { get; init; }

    /// <summary>
    /// The producer's sequence number of the first message on this partition; record i carries <c>BaseSequence + i</c>.
    /// A batch whose sequences the partition has stored already is a retry and is not stored again.
    /// </summary>
    [Id(3)] public int BaseSequence { get; init; }

    /// <summary>When the partition confirms the batch. Default <see cref="Acks.All"/>.</summary>
    [Id(4)] public Acks Acks { get; init; }
}
