using System.Buffers.Binary;
using System.Text;

namespace Granary.Records;

/// <summary>
/// The on-disk (and on-wire) layout of a record batch, format version 1. All integers little-endian.
/// <code>
/// Batch header (38 bytes)
///   0  baseOffset:int64        offset of the first record; stamped by the log on append, so it sits outside the
///                              CRC (as in Kafka) and is checked by sequence instead
///   8  length:int32            bytes after this field (batch size - 12)
///  12  crc32c:uint32           CRC32C of bytes [16, end): everything after the crc field
///  16  magic:uint8             batch format version = 1
///  17  attributes:uint8        reserved, 0 (appends refuse anything else)
///  18  recordCount:int32       at least 1; record i has offset baseOffset + i
///  22  firstTimestampMs:int64  timestamp of the first record
///  30  maxTimestampMs:int64    largest record timestamp (drives the time index; appends check it)
///  38  records...
/// Record (v = zigzag LEB128 varint)
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
    /// <summary>Size of the batch header in bytes.</summary>
    public const int HeaderSize = 38;
    /// <summary>Bytes before the region counted by the length field (baseOffset and length).</summary>
    public const int LogOverhead = 12;
    /// <summary>The batch format version this code writes and reads.</summary>
    public const byte CurrentMagic = 1;

    internal const int BaseOffsetPosition = 0;
    internal const int LengthPosition = 8;
    internal const int CrcPosition = 12;
    internal const int MagicPosition = 16;
    internal const int AttributesPosition = 17;
    internal const int RecordCountPosition = 18;
    internal const int FirstTimestampPosition = 22;
    internal const int MaxTimestampPosition = 30;

    internal const byte FlagKey = 1, FlagExpiry = 2, FlagDeliverAt = 4, FlagProducer = 8;

    /// <summary>Size of the header of <paramref name="batch"/>, by its format version (its magic byte).</summary>
    public static int HeaderSizeOf(ReadOnlySpan<byte> batch) => HeaderSize;

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

    /// <summary>Writes the header of a batch whose records already sit at [<see cref="HeaderSize"/>..], and its CRC.</summary>
    public static void WriteHeader(Span<byte> batch, long baseOffset, int recordCount, long firstTimestampMs, long maxTimestampMs)
    {
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
    /// Checks the header fields that can be checked without the CRC: magic, length and record count bounds.
    /// Returns null when plausible, else the reason.
    /// </summary>
    public static string? CheckHeader(ReadOnlySpan<byte> header, long maxTotalSize)
    {
        if (header.Length < HeaderSize) return "batch shorter than its header";
        long total = ReadTotalSize(header);
        if (total < HeaderSize) return $"batch length {total} is below the header size";
        if (total > maxTotalSize) return $"batch length {total} exceeds the limit {maxTotalSize}";
        if (header[MagicPosition] != CurrentMagic) return $"unknown batch format version {header[MagicPosition]}";
        int count = ReadRecordCount(header);
        if (count < 1) return $"record count {count} is not positive";
        if (count > (total - HeaderSize)) return $"record count {count} exceeds what {total} bytes can hold";
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
        int count = ReadRecordCount(batch);
        long firstTimestamp = BinaryPrimitives.ReadInt64LittleEndian(batch[FirstTimestampPosition..]);
        long maxTimestamp = long.MinValue;
        int position = HeaderSize;
        for (int i = 0; i < count; i++)
        {
            if (!TryReadRecordBounds(batch, ref position, out long timestampDelta)) return $"record {i} is malformed";
            // Same arithmetic as the reader, so the check is against the timestamps consumers will see.
            maxTimestamp = Math.Max(maxTimestamp, unchecked(firstTimestamp + timestampDelta));
        }
        if (position != batch.Length) return $"{batch.Length - position} bytes after the last record";
        // The time index, timestamp lookups and retention by age trust the header; a wrong value hides records.
        long stated = ReadMaxTimestamp(batch);
        return stated == maxTimestamp ? null : $"header max timestamp {stated} is not the largest record timestamp {maxTimestamp}";
    }

    /// <summary>
    /// Advances over one record; false if it does not decode within the batch or a header name is not valid UTF-8.
    /// </summary>
    internal static bool TryReadRecordBounds(ReadOnlySpan<byte> batch, ref int position, out long timestampDelta)
    {
        timestampDelta = 0;
        if (!VarInt.TryRead(batch, ref position, out long bodyLength) || bodyLength < 1 || bodyLength > batch.Length - position) return false;
        int end = position + (int)bodyLength;
        var body = batch[..end];
        int p = position;
        byte flags = body[p++];
        if ((flags & ~(FlagKey | FlagExpiry | FlagDeliverAt | FlagProducer)) != 0) return false;
        if (!VarInt.TryRead(body, ref p, out timestampDelta)) return false;
        if ((flags & FlagExpiry) != 0 && !VarInt.TryRead(body, ref p, out _)) return false;
        if ((flags & FlagDeliverAt) != 0 && !VarInt.TryRead(body, ref p, out _)) return false;
        if ((flags & FlagProducer) != 0 && (!VarInt.TryRead(body, ref p, out _) || !VarInt.TryRead(body, ref p, out _))) return false;
        if ((flags & FlagKey) != 0 && !TrySkipBytes(body, ref p, out _)) return false;
        if (!VarInt.TryRead(body, ref p, out long headerCount) || headerCount < 0 || headerCount > end - p) return false;
        for (long h = 0; h < headerCount; h++)
        {
            if (!TrySkipBytes(body, ref p, out var name) || !IsStrictUtf8(name) || !TrySkipBytes(body, ref p, out _)) return false;
        }
        if (!TrySkipBytes(body, ref p, out _) || p != end) return false;
        position = end;
        return true;
    }

    // Decodes with the encoding StoredRecord.GetHeaders uses, so an accepted name is one every consumer can read.
    private static bool IsStrictUtf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            StrictUtf8.GetCharCount(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private static bool TrySkipBytes(ReadOnlySpan<byte> body, ref int p, out ReadOnlySpan<byte> skipped)
    {
        skipped = default;
        if (!VarInt.TryRead(body, ref p, out long length) || length < 0 || length > body.Length - p) return false;
        skipped = body.Slice(p, (int)length);
        p += (int)length;
        return true;
    }

    internal static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
