using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;
using System.Text;
using Granary.Records;

namespace Granary.Grains.Partitions;

/// <summary>What one validation pass over a producer's batch found.</summary>
/// <param name="Timed">Some record has its own expiry or a deliver-at.</param>
/// <param name="PayloadBytes">Sum of the payload sizes.</param>
/// <param name="IdCount">Records with a message id to deduplicate on.</param>
internal readonly record struct ProducedBatchSummary(bool Timed, long PayloadBytes, int IdCount);

/// <summary>
/// Checks a batch a producer sent, once, before the partition stamps and stores it: everything the log's own
/// validation checks (header, CRC, every record's structure, UTF-8 header names) and what only the partition knows:
/// the record count and producer fields agree with the call's header, record timestamps are the batch's (delta 0, the
/// partition sets the time), expiries are not negative, every message within the topic's size limit. The same pass
/// collects the message ids (as 128-bit hashes) deduplication needs. Allocates nothing.
/// </summary>
internal static class ProducedBatchValidator
{
    private static readonly byte[] MessageIdName = Encoding.UTF8.GetBytes(GranaryHeaders.MessageId);
    private static readonly byte[] RedriveGroupName = Encoding.UTF8.GetBytes(GranaryHeaders.RedriveGroup);
    private static readonly byte[] TraceParentName = Encoding.UTF8.GetBytes(GranaryHeaders.TraceParent);
    private static readonly byte[] TraceStateName = Encoding.UTF8.GetBytes(GranaryHeaders.TraceState);
    // W3C Trace Context: a version-00 traceparent is 55 characters; a tracestate may be cut to 512. These bytes do not
    // count against MaxMessageBytes (as Message.EnsureWithinLimit), so tracing never makes a message too large.
    private const int TraceParentAllowance = 55;
    private const int TraceStateAllowance = 512;

    /// <summary>
    /// The checks of the call's own fields, before the partition opens its log for it: at least one record, no more
    /// records than the bytes can hold (every record takes at least two bytes: a larger count is a lie, refused before
    /// anything is sized by it), and an idempotent producer's sequences within range.
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidArgument"/>.</exception>
    public static void CheckCall([NotNull] ProduceBatch? batch)
    {
        if (batch is null || batch.RecordCount < 1)
            throw new GranaryException(GranaryErrorCode.InvalidArgument, "A batch needs at least one message.");
        int count = batch.RecordCount;
        if (count > batch.Records.Length / 2)
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"Invalid record batch: {count} records cannot fit in {batch.Records.Length} bytes.");
        if (batch.ProducerId != 0 && (batch.BaseSequence < 0 || batch.BaseSequence + (long)count - 1 > int.MaxValue))
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"BaseSequence {batch.BaseSequence} with {count} messages is out of range.");
    }

    /// <summary>
    /// Validates <paramref name="records"/> against <paramref name="batch"/>'s header. Fills <paramref name="ids"/>[i]
    /// and <paramref name="hasId"/>[i] (both at least <see cref="ProduceBatch.RecordCount"/> long) with record i's
    /// message-id hash.
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidArgument"/> for a malformed, truncated or forged
    /// batch; <see cref="GranaryErrorCode.MessageTooLarge"/> for a message over <paramref name="maxMessageBytes"/>.</exception>
    public static ProducedBatchSummary Validate(ProduceBatch batch, ReadOnlySpan<byte> records, int maxMessageBytes, string topic,
        Span<UInt128> ids, Span<bool> hasId) => Validate(batch, records, maxMessageBytes, topic, ids, hasId, growScratch: false);

    /// <summary>
    /// Validates <paramref name="records"/> as the other overload does, leaving record i's message-id hash in
    /// <see cref="AppendScratch"/> (grown as records are read: a forged record count sizes nothing).
    /// </summary>
    public static ProducedBatchSummary Validate(ProduceBatch batch, ReadOnlySpan<byte> records, int maxMessageBytes, string topic)
    {
        AppendScratch.Begin();
        int initial = Math.Clamp(batch.RecordCount, 0, InitialScratch);
        return Validate(batch, records, maxMessageBytes, topic, AppendScratch.Ids(initial), AppendScratch.HasId(initial), growScratch: true);
    }

    private const int InitialScratch = 1024;

    private static ProducedBatchSummary Validate(ProduceBatch batch, ReadOnlySpan<byte> records, int maxMessageBytes, string topic,
        Span<UInt128> ids, Span<bool> hasId, bool growScratch)
    {
        if (RecordBatchCodec.CheckHeader(records, int.MaxValue) is { } problem) throw Invalid(problem);
        if (RecordBatchCodec.ReadTotalSize(records) != records.Length)
            throw Invalid($"the batch's length field says {RecordBatchCodec.ReadTotalSize(records)} bytes but {records.Length} were sent");
        if (records[RecordBatchCodec.MagicPosition] != RecordBatchCodec.CurrentMagic) throw Invalid($"a producer sends format version {RecordBatchCodec.CurrentMagic}, not {records[RecordBatchCodec.MagicPosition]}");
        if (!RecordBatchCodec.IsChecksumValid(records)) throw Invalid("CRC32C mismatch");
        if (records[RecordBatchCodec.AttributesPosition] != 0) throw Invalid($"reserved attributes byte is {records[RecordBatchCodec.AttributesPosition]}, not 0");
        int count = RecordBatchCodec.ReadRecordCount(records);
        if (count != batch.RecordCount) throw Invalid($"the batch holds {count} records but the call says {batch.RecordCount}");

        bool timed = false;
        long payloadBytes = 0;
        int idCount = 0;
        int position = RecordBatchCodec.HeaderSizeOf(records);
        for (int i = 0; i < count; i++)
        {
            if (!RecordBatchCodec.TryReadRecord(records, ref position, out var record)) throw Invalid($"record {i} is malformed");
            if (i >= ids.Length || i >= hasId.Length)
            {
                if (!growScratch) throw new ArgumentException($"Room for {ids.Length} message ids, not {count}.", nameof(ids));
                ids = AppendScratch.Ids(i + 1);
                hasId = AppendScratch.HasId(i + 1);
            }
            if (record.TimestampDelta != 0) throw Invalid($"record {i} has timestamp delta {record.TimestampDelta}; a producer's records all have the batch's time");
            if (record.HasExpiry && record.ExpiresDelta < 0) throw Invalid($"record {i} has a negative time to live");
            timed |= record.HasExpiry || record.HasDeliverAt;
            if (batch.ProducerId != 0)
            {
                if (!record.HasProducer || record.ProducerId != batch.ProducerId || record.Sequence != batch.BaseSequence + (long)i)
                    throw Invalid($"record {i} does not carry producer {batch.ProducerId} and sequence {batch.BaseSequence + (long)i} as the call says");
            }
            else if (record.HasProducer)
            {
                throw Invalid($"record {i} carries a producer id but the call has none");
            }

            long size = (long)record.Payload.Length + record.Key.Length;
            long allowance = 0;
            bool redriven = false, found = false;
            UInt128 id = default;
            var headers = new RecordHeaderReader(record.RawHeaders);
            while (headers.MoveNext())
            {
                var name = headers.Name;
                var value = headers.Value;
                size += name.Length + value.Length;
                if (name.SequenceEqual(TraceParentName)) allowance += name.Length + Math.Min(value.Length, TraceParentAllowance);
                else if (name.SequenceEqual(TraceStateName)) allowance += name.Length + Math.Min(value.Length, TraceStateAllowance);
                else if (name.SequenceEqual(MessageIdName)) { id = HashId(value); found = true; } // the last one counts
                else if (name.SequenceEqual(RedriveGroupName)) redriven = true;
            }
            long counted = size - allowance;
            if (counted > maxMessageBytes)
                throw new GranaryException(GranaryErrorCode.MessageTooLarge, $"A message of {counted} bytes exceeds the limit of {maxMessageBytes} bytes of topic '{topic}'.");
            payloadBytes += record.Payload.Length;
            // A redriven dead letter keeps its id on purpose and is not deduplicated.
            hasId[i] = found && !redriven;
            if (hasId[i])
            {
                ids[i] = id;
                idCount++;
            }
        }
        if (position != records.Length) throw Invalid($"{records.Length - position} bytes after the last record");
        return new ProducedBatchSummary(timed, payloadBytes, idCount);
    }

    // Seeded at random per process: XxHash128 is not built to resist chosen inputs, and with a known seed a producer
    // allowed on the topic could craft ids that collide with another producer's and so suppress its messages. The
    // window lives in memory and is rebuilt by hashing the log again on activation, so no hash outlives its process.
    private static readonly long IdHashSeed = Random.Shared.NextInt64();

    internal static UInt128 HashId(ReadOnlySpan<byte> id) => XxHash128.HashToUInt128(id, IdHashSeed);

    /// <summary>
    /// The message id of a stored record to deduplicate on, as its hash (the last <c>granary.message-id</c> header);
    /// false when it has none or is a redriven dead letter, which keeps its id on purpose.
    /// </summary>
    public static bool TryGetDedupId(ReadOnlySpan<byte> rawHeaders, out UInt128 id)
    {
        id = default;
        bool found = false;
        var headers = new RecordHeaderReader(rawHeaders);
        while (headers.MoveNext())
        {
            if (headers.Name.SequenceEqual(RedriveGroupName)) return false;
            if (headers.Name.SequenceEqual(MessageIdName))
            {
                id = HashId(headers.Value);
                found = true;
            }
        }
        return found;
    }

    private static GranaryException Invalid(string reason) => new(GranaryErrorCode.InvalidArgument, $"Invalid record batch: {reason}.");
}
