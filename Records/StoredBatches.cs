using System.Buffers.Binary;
using System.Text;

namespace Granary.Records;

/// <summary>
/// The read path's view of stored batches as they travel (a fetch's buffer, a pull's answer): the header size by
/// format version, each record's encoded range, header lookups without decoding, and writing a batch of chosen
/// records copied verbatim from a source batch. Version-agnostic: a header is copied as it is, so fields a later
/// format adds to it (v2's default TTL) travel with the records.
/// </summary>
internal static class StoredBatches
{
    /// <summary>
    /// Advances <paramref name="position"/> over one record of <paramref name="batch"/> and gives its encoded range
    /// (length prefix included). False when the length prefix does not fit the batch.
    /// </summary>
    public static bool TryReadRecordRange(ReadOnlySpan<byte> batch, ref int position, out int start, out int length)
    {
        start = position;
        length = 0;
        int p = position;
        if (!VarInt.TryRead(batch, ref p, out long body) || body < 1 || body > batch.Length - p) return false;
        position = p + (int)body;
        length = position - start;
        return true;
    }

    /// <summary>
    /// Splits <paramref name="batches"/> (consecutive whole batches) into its batches. Throws
    /// <see cref="InvalidDataException"/> when a length field does not fit, so a short or forged buffer is refused,
    /// not misread.
    /// </summary>
    public static List<ReadOnlyMemory<byte>> Split(ReadOnlyMemory<byte> batches)
    {
        var result = new List<ReadOnlyMemory<byte>>();
        var remaining = batches;
        while (!remaining.IsEmpty)
        {
            if (remaining.Length < RecordBatchCodec.LogOverhead) throw new InvalidDataException($"{remaining.Length} bytes after the last batch are not a batch.");
            long size = RecordBatchCodec.ReadTotalSize(remaining.Span);
            if (size < RecordBatchCodec.MinHeaderSize || size > remaining.Length)
                throw new InvalidDataException($"A batch says it has {size} bytes but {remaining.Length} remain.");
            result.Add(remaining[..(int)size]);
            remaining = remaining[(int)size..];
        }
        return result;
    }

    /// <summary>
    /// The value of header <paramref name="utf8Name"/> of <paramref name="record"/>, scanning the encoded headers
    /// without decoding names to strings; false when the record has no such header.
    /// </summary>
    public static bool TryGetHeader(in StoredRecord record, ReadOnlySpan<byte> utf8Name, out ReadOnlySpan<byte> value)
    {
        var headers = new RecordHeaderReader(record.RawHeaders.Span);
        while (headers.MoveNext())
        {
            if (!headers.Name.SequenceEqual(utf8Name)) continue;
            value = headers.Value;
            return true;
        }
        value = default;
        return false;
    }

    /// <summary>The UTF-8 bytes of a header name, for <see cref="TryGetHeader"/>.</summary>
    public static byte[] NameBytes(string name) => Encoding.UTF8.GetBytes(name);

    /// <summary>Size of a batch holding records of <paramref name="recordBytes"/> bytes under the header of <paramref name="sourceBatch"/>.</summary>
    public static int SizeOfExcerpt(ReadOnlySpan<byte> sourceBatch, int recordBytes) => RecordBatchCodec.HeaderSizeOf(sourceBatch) + recordBytes;

    /// <summary>
    /// Starts a batch in <paramref name="destination"/> by copying the header of <paramref name="sourceBatch"/>;
    /// records are then copied after it verbatim and <see cref="FinishExcerpt"/> patches the header. Record
    /// timestamps are deltas from the header's first timestamp, which is kept, so they read the same.
    /// </summary>
    public static int BeginExcerpt(ReadOnlySpan<byte> sourceBatch, Span<byte> destination)
    {
        byte magic = sourceBatch[RecordBatchCodec.MagicPosition];
        if (magic is not (RecordBatchCodec.MagicV1 or RecordBatchCodec.CurrentMagic)) throw new InvalidDataException($"Unknown batch format version {magic}.");
        int header = RecordBatchCodec.HeaderSizeOf(sourceBatch);
        sourceBatch[..header].CopyTo(destination);
        return header;
    }

    /// <summary>
    /// Patches a batch begun with <see cref="BeginExcerpt"/> that is exactly <paramref name="batch"/>: base offset,
    /// record count, length, max timestamp and CRC, so that it is a valid batch of just the copied records.
    /// </summary>
    public static void FinishExcerpt(Span<byte> batch, long baseOffset, int recordCount, long maxTimestampMs)
    {
        BinaryPrimitives.WriteInt64LittleEndian(batch[RecordBatchCodec.MaxTimestampPosition..], maxTimestampMs);
        RecordBatchCodec.RewriteHeader(batch, baseOffset, recordCount);
    }

    /// <summary>
    /// Decodes the record at <paramref name="start"/> (its range as <see cref="TryReadRecordRange"/> gave it) of
    /// <paramref name="sourceBatch"/>, which has offset <paramref name="offset"/>, into a new one-record batch (a
    /// copy: for cold paths such as dead letters).
    /// </summary>
    public static StoredRecord DecodeCopy(ReadOnlySpan<byte> sourceBatch, int start, int length, long offset, long timestampMs)
    {
        var copy = new byte[RecordBatchCodec.HeaderSizeOf(sourceBatch) + length];
        int p = BeginExcerpt(sourceBatch, copy);
        sourceBatch.Slice(start, length).CopyTo(copy.AsSpan(p));
        FinishExcerpt(copy, offset, 1, timestampMs);
        foreach (var record in new RecordBatch(copy)) return record;
        throw new InvalidDataException($"Record {offset} is missing.");
    }
    /// <summary>
    /// The records of <paramref name="batches"/> (consecutive whole batches) with offsets in [<paramref name="from"/>,
    /// <paramref name="to"/>), each with its source batch and encoded range; key, headers and payload are slices, not
    /// copies. Records below <paramref name="from"/> (a first batch that starts earlier) are skipped.
    /// </summary>
    public static IEnumerable<RangedRecord> Read(ReadOnlyMemory<byte> batches, long from, long to)
    {
        foreach (var batch in Split(batches))
        {
            var source = new RecordBatch(batch);
            if (source.NextOffset <= from) continue;
            if (source.BaseOffset >= to) yield break;
            int position = RecordBatchCodec.HeaderSizeOf(batch.Span);
            foreach (var record in source)
            {
                if (!TryReadRecordRange(batch.Span, ref position, out int start, out int length))
                    throw new InvalidDataException($"Record {record.Offset} does not fit its batch.");
                if (record.Offset < from) continue;
                if (record.Offset >= to) yield break;
                yield return new RangedRecord(batch, record, start, length);
            }
        }
    }
}

/// <summary>A decoded record with the batch it sits in and its encoded range there.</summary>
/// <param name="Batch">The whole source batch.</param>
/// <param name="Record">The record (slices of <paramref name="Batch"/>).</param>
/// <param name="Start">Where its encoding starts in <paramref name="Batch"/> (length prefix included).</param>
/// <param name="Length">Length of its encoding.</param>
internal readonly record struct RangedRecord(ReadOnlyMemory<byte> Batch, StoredRecord Record, int Start, int Length);
