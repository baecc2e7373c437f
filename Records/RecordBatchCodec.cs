using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace Granary.Records;

/// <summary>
/// The on-disk (and on-wire) layout of a record batch, format version 2 (version 1 is still read). All integers
/// little-endian.
/// <code>
/// Batch header (46 bytes; 38 in version 1, which ends before defaultTtlMs)
///   0  baseOffset:int64        offset of the first record; stamped by the log on append, so it sits outside the
///                              CRC (as in Kafka) and is checked by sequence instead
///   8  length:int32            bytes after this field (batch size - 12)
///  12  crc32c:uint32           CRC32C of bytes [16, end): everything after the crc field
///  16  magic:uint8             batch format version: 2 (1 for batches written before version 2)
///  17  attributes:uint8        reserved, 0 (appends refuse anything else)
///  18  recordCount:int32       at least 1; record i has offset baseOffset + i
///  22  firstTimestampMs:int64  timestamp of the first record
///  30  maxTimestampMs:int64    largest record timestamp (drives the time index; appends check it)
///  38  defaultTtlMs:int64      (version 2) records without their own expiry expire at timestamp + defaultTtlMs;
///                              -1 for none (the topic's default time to live, stamped by the partition)
///  46  records...              (38 in version 1)
/// Record (v = zigzag LEB128 varint); the same in both versions
///   bodyLength:v               bytes after this field
///   flags:uint8                1 key, 2 expiry, 4 deliver-at, 8 producer
///   timestampDelta:v           timestamp - firstTimestampMs
///   [expiresDelta:v]           expiresAtMs - timestamp            (flag 2)
///   [deliverDelta:v]           deliverAtMs - timestamp            (flag 4)
///   [producerId:v sequence:v]                                     (flag 8)
///   [keyLength:v key]                                             (flag 1; an empty key is a key)
///   headerCount:v then headerCount x (nameLength:v utf8-name valueLength:v value)
///   payloadLength:v payload
/// </code>
/// A reader refuses a batch whose magic it does not know, so a later format is detected, never misread.
/// </summary>
public static class RecordBatchCodec
{
    /// <summary>Size of the header of the batches this code writes (format version 2), in bytes.</summary>
    public const int HeaderSize = 46;
    /// <summary>Size of a format-version-1 header; also the fewest bytes that tell a batch's version and size.</summary>
    public const int MinHeaderSize = 38;
    /// <summary>Bytes before the region counted by the length field (baseOffset and length).</summary>
    public const int LogOverhead = 12;
    /// <summary>The batch format version this code writes.</summary>
    public const byte CurrentMagic = 2;
    /// <summary>The first format version, still read (segments written before version 2).</summary>
    public const byte MagicV1 = 1;
    /// <summary>The value of the default-TTL field for "no default time to live".</summary>
    public const long NoDefaultTtl = -1;

    internal const int BaseOffsetPosition = 0;
    internal const int LengthPosition = 8;
    internal const int CrcPosition = 12;
    internal const int MagicPosition = 16;
    internal const int AttributesPosition = 17;
    internal const int RecordCountPosition = 18;
    internal const int FirstTimestampPosition = 22;
    internal const int MaxTimestampPosition = 30;
    internal const int DefaultTtlPosition = 38;

    internal const byte FlagKey = 1, FlagExpiry = 2, FlagDeliverAt = 4, FlagProducer = 8;

    /// <summary>
    /// Size of the header of <paramref name="batch"/> (at least its first <see cref="MinHeaderSize"/> bytes), by its
    /// format version: 38 for version 1, 46 for version 2. An unknown version (which <see cref="CheckHeader"/> refuses)
    /// counts as the current one.
    /// </summary>
    public static int HeaderSizeOf(ReadOnlySpan<byte> batch) => batch[MagicPosition] == MagicV1 ? MinHeaderSize : HeaderSize;

    /// <summary>The default time to live of a batch in milliseconds (<see cref="NoDefaultTtl"/> for none; always none in version 1).</summary>
    public static long ReadDefaultTtl(ReadOnlySpan<byte> batch) =>
        batch[MagicPosition] == MagicV1 ? NoDefaultTtl : BinaryPrimitives.ReadInt64LittleEndian(batch[DefaultTtlPosition..]);

    /// <summary>Reads the first record's timestamp of a batch.</summary>
    public static long ReadFirstTimestamp(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt64LittleEndian(batch[FirstTimestampPosition..]);

    /// <summary>Reads the base offset of a batch.</summary>
    public static long ReadBaseOffset(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt64LittleEndian(batch);

    /// <summary>Reads the total size of a batch, header included, from its first 12 bytes.</summary>
    public static long ReadTotalSize(ReadOnlySpan<byte> batch) => LogOverhead + (long)BinaryPrimitives.ReadInt32LittleEndian(batch[LengthPosition..]);

    /// <summary>Reads the record count of a batch.</summary>
    public static int ReadRecordCount(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt32LittleEndian(batch[RecordCountPosition..]);

    /// <summary>Reads the largest record timestamp of a batch.</summary>
    public static long ReadMaxTimestamp(ReadOnlySpan<byte> batch) => BinaryPrimitives.ReadInt64LittleEndian(batch[MaxTimestampPosition..]);

    /// <summary>Stamps the base offset. The CRC does not cover it, so no other byte changes.</summary>
    public static void WriteBaseOffset(Span<byte> batch, long baseOffset) => BinaryPrimitives.WriteInt64LittleEndian(batch, baseOffset);

    /// <summary>
    /// Writes a version-2 header, without a default time to live, for a batch whose records already sit at
    /// [<see cref="HeaderSize"/>..], and its CRC.
    /// </summary>
    public static void WriteHeader(Span<byte> batch, long baseOffset, int recordCount, long firstTimestampMs, long maxTimestampMs) =>
        WriteHeader(batch, baseOffset, recordCount, firstTimestampMs, maxTimestampMs, NoDefaultTtl);

    /// <summary>
    /// Writes a version-2 header for a batch whose records already sit at [<see cref="HeaderSize"/>..], and its CRC.
    /// <paramref name="defaultTtlMs"/>: the expiry, from each record's timestamp, of records without their own; <see cref="NoDefaultTtl"/> for none.
    /// </summary>
    public static void WriteHeader(Span<byte> batch, long baseOffset, int recordCount, long firstTimestampMs, long maxTimestampMs, long defaultTtlMs)
    {
        BinaryPrimitives.WriteInt64LittleEndian(batch[DefaultTtlPosition..], defaultTtlMs);
        BinaryPrimitives.WriteInt64LittleEndian(batch, baseOffset);
        BinaryPrimitives.WriteInt32LittleEndian(batch[LengthPosition..], batch.Length - LogOverhead);
        batch[MagicPosition] = CurrentMagic;
        batch[AttributesPosition] = 0;
        BinaryPrimitives.WriteInt32LittleEndian(batch[RecordCountPosition..], recordCount);
        BinaryPrimitives.WriteInt64LittleEndian(batch[FirstTimestampPosition..], firstTimestampMs);
        BinaryPrimitives.WriteInt64LittleEndian(batch[MaxTimestampPosition..], maxTimestampMs);
        BinaryPrimitives.WriteUInt32LittleEndian(batch[CrcPosition..], Checksum.Crc32C(batch[MagicPosition..]));
    }

    /// <summary>
    /// Patches a batch of either version whose records were replaced (a subset copied verbatim after its header):
    /// base offset, length (from <paramref name="batch"/>'s size), record count and CRC. Version, timestamps and
    /// default TTL stay as they are, so the copied records' deltas keep their meaning.
    /// </summary>
    public static void RewriteHeader(Span<byte> batch, long baseOffset, int recordCount)
    {
        BinaryPrimitives.WriteInt64LittleEndian(batch, baseOffset);
        BinaryPrimitives.WriteInt32LittleEndian(batch[LengthPosition..], batch.Length - LogOverhead);
        BinaryPrimitives.WriteInt32LittleEndian(batch[RecordCountPosition..], recordCount);
        BinaryPrimitives.WriteUInt32LittleEndian(batch[CrcPosition..], Checksum.Crc32C(batch[MagicPosition..]));
    }

    /// <summary>
    /// Stamps a version-2 batch whose record timestamp deltas are all 0 (as producers send them) with the time it is
    /// stored and the topic's default time to live, and recomputes the CRC. Every record's timestamp becomes
    /// <paramref name="timestampMs"/>; expiry and deliver-at stay relative to it.
    /// </summary>
    public static void StampTime(Span<byte> batch, long timestampMs, long defaultTtlMs)
    {
        if (batch[MagicPosition] != CurrentMagic) throw new ArgumentException("Only a version-2 batch carries a default time to live.", nameof(batch));
        BinaryPrimitives.WriteInt64LittleEndian(batch[FirstTimestampPosition..], timestampMs);
        BinaryPrimitives.WriteInt64LittleEndian(batch[MaxTimestampPosition..], timestampMs);
        BinaryPrimitives.WriteInt64LittleEndian(batch[DefaultTtlPosition..], defaultTtlMs);
        BinaryPrimitives.WriteUInt32LittleEndian(batch[CrcPosition..], Checksum.Crc32C(batch[MagicPosition..]));
    }

    /// <summary>
    /// Checks the header fields that can be checked without the CRC: magic, length and record count bounds.
    /// Returns null when plausible, else the reason.
    /// </summary>
    public static string? CheckHeader(ReadOnlySpan<byte> header, long maxTotalSize)
    {
        if (header.Length < MinHeaderSize) return "batch shorter than its header";
        long total = ReadTotalSize(header);
        if (header[MagicPosition] is not (MagicV1 or CurrentMagic)) return $"unknown batch format version {header[MagicPosition]}";
        int headerSize = HeaderSizeOf(header);
        if (total < headerSize) return $"batch length {total} is below the header size";
        if (total > maxTotalSize) return $"batch length {total} exceeds the limit {maxTotalSize}";
        int count = ReadRecordCount(header);
        if (count < 1) return $"record count {count} is not positive";
        if (count > (total - headerSize)) return $"record count {count} exceeds what {total} bytes can hold";
        return null;
    }

    /// <summary>True when the stored CRC matches the batch content.</summary>
    public static bool IsChecksumValid(ReadOnlySpan<byte> batch) =>
        BinaryPrimitives.ReadUInt32LittleEndian(batch[CrcPosition..]) == Checksum.Crc32C(batch[MagicPosition..]);

    /// <summary>
    /// Fully validates one encoded batch that is exactly <paramref name="batch"/>: header, CRC, the reserved attributes,
    /// that every record decodes within its bounds with UTF-8 header names, and that the header's max timestamp is the
    /// largest record timestamp. Returns null when valid, else the reason.
    /// </summary>
    public static string? Validate(ReadOnlySpan<byte> batch, long maxTotalSize)
    {
        if (CheckHeader(batch, maxTotalSize) is { } reason) return reason;
        if (ReadTotalSize(batch) != batch.Length) return $"batch length field says {ReadTotalSize(batch)} bytes but {batch.Length} were given";
        if (!IsChecksumValid(batch)) return "CRC32C mismatch";
        // Reserved for flags a later format may define: a reader of this version could not honour them.
        if (batch[AttributesPosition] != 0) return $"reserved attributes byte is {batch[AttributesPosition]}, not 0";
        if (ReadDefaultTtl(batch) < NoDefaultTtl) return $"default time to live {ReadDefaultTtl(batch)} is negative";
        int count = ReadRecordCount(batch);
        long firstTimestamp = ReadFirstTimestamp(batch);
        long maxTimestamp = long.MinValue;
        int position = HeaderSizeOf(batch);
        for (int i = 0; i < count; i++)
        {
            if (!TryReadRecord(batch, ref position, out var record)) return $"record {i} is malformed";
            // Same arithmetic as the reader, so the check is against the timestamps consumers will see.
            maxTimestamp = Math.Max(maxTimestamp, unchecked(firstTimestamp + record.TimestampDelta));
        }
        if (position != batch.Length) return $"{batch.Length - position} bytes after the last record";
        // The time index, timestamp lookups and retention by age trust the header; a wrong value hides records.
        long stated = ReadMaxTimestamp(batch);
        return stated == maxTimestamp ? null : $"header max timestamp {stated} is not the largest record timestamp {maxTimestamp}";
    }

    /// <summary>
    /// Reads the record at <paramref name="position"/> of <paramref name="batch"/> (an encoded batch, or at least its
    /// bytes up to the record's end) and advances past it; false, with <paramref name="position"/> unchanged, if it does
    /// not decode within the batch or a header name is not valid UTF-8. Allocates nothing.
    /// </summary>
    public static bool TryReadRecord(ReadOnlySpan<byte> batch, scoped ref int position, out EncodedRecord record)
    {
        record = default;
        int start = position;
        int p = start;
        if (!VarInt.TryRead(batch, ref p, out long bodyLength) || bodyLength < 1 || bodyLength > batch.Length - p) return false;
        int end = p + (int)bodyLength;
        var body = batch[..end];
        byte flags = body[p++];
        if ((flags & ~(FlagKey | FlagExpiry | FlagDeliverAt | FlagProducer)) != 0) return false;
        long expiresDelta = 0, deliverDelta = 0, producerId = 0, sequence = 0;
        if (!VarInt.TryRead(body, ref p, out long timestampDelta)) return false;
        if ((flags & FlagExpiry) != 0 && !VarInt.TryRead(body, ref p, out expiresDelta)) return false;
        if ((flags & FlagDeliverAt) != 0 && !VarInt.TryRead(body, ref p, out deliverDelta)) return false;
        if ((flags & FlagProducer) != 0 && (!VarInt.TryRead(body, ref p, out producerId) || !VarInt.TryRead(body, ref p, out sequence))) return false;
        ReadOnlySpan<byte> key = default;
        if ((flags & FlagKey) != 0 && !TrySkipBytes(body, ref p, out key)) return false;
        if (!VarInt.TryRead(body, ref p, out long headerCount) || headerCount < 0 || headerCount > end - p) return false;
        int headersStart = p;
        for (long h = 0; h < headerCount; h++)
        {
            if (!TrySkipBytes(body, ref p, out var name) || !Utf8.IsValid(name) || !TrySkipBytes(body, ref p, out _)) return false;
        }
        int headersEnd = p;
        if (!TrySkipBytes(body, ref p, out var payload) || p != end) return false;
        record = new EncodedRecord(batch[start..end], flags, timestampDelta, expiresDelta, deliverDelta, producerId, sequence,
            key, batch[headersStart..headersEnd], (int)headerCount, payload);
        position = end;
        return true;
    }

    internal static bool TrySkipBytes(ReadOnlySpan<byte> body, scoped ref int p, out ReadOnlySpan<byte> skipped)
    {
        skipped = default;
        if (!VarInt.TryRead(body, ref p, out long length) || length < 0 || length > body.Length - p) return false;
        skipped = body.Slice(p, (int)length);
        p += (int)length;
        return true;
    }

    internal static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
