namespace Granary.Grains;

/// <summary>
/// One append: a small fixed header and the messages as one encoded record batch (format version 2, see
/// <c>Granary.Records.RecordBatchCodec</c>), as the producer encoded it. Immutable on the wire: no per-message object
/// crosses it or is deep-copied. The partition checks that the records agree with this header.
/// </summary>
[GenerateSerializer, Immutable, Alias("granary.ProduceBatch")]
public sealed record ProduceBatch
{
    /// <summary>A batch of the caller's bytes (see <see cref="Records"/>).</summary>
    /// <param name="records">The encoded batch, see <see cref="Records"/>.</param>
    /// <param name="recordCount">Number of records in <paramref name="records"/>.</param>
    public ProduceBatch(ReadOnlyMemory<byte> records, int recordCount)
    {
        Bytes = new BatchBytes(records);
        RecordCount = recordCount;
    }

    /// <summary>
    /// The encoded batch and who owns its array: on a silo that received the call from another process, an array rented
    /// from the shared pool, which the partition returns when it has appended or refused the batch.
    /// </summary>
    [Id(0)] public BatchBytes Bytes { get; init; }

    /// <summary>
    /// The encoded batch: record timestamp deltas 0, each record's time to live as its expiry delta, a deliver-at as a
    /// delay (deliver delta), producer id and sequence per record when <see cref="ProducerId"/> is set. Setting it makes
    /// the bytes the caller's (<see cref="Bytes"/>).
    /// </summary>
    public ReadOnlyMemory<byte> Records
    {
        // A forged call may leave the field out: then no bytes, which the partition refuses as a malformed batch.
        get => Bytes?.Memory ?? ReadOnlyMemory<byte>.Empty;
        init => Bytes = new BatchBytes(value);
    }

    /// <summary>Number of records in <see cref="Records"/>.</summary>
    [Id(1)] public int RecordCount { get; init; }

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
