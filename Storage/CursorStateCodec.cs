using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Granary.Records;

namespace Granary.Storage;

/// <summary>
/// The frames of a <see cref="CursorStateLog"/>: <c>[payload length: int32 LE][CRC32C of the payload: uint32 LE][payload]</c>.
/// A payload starts with its format version and kind (snapshot or delta); every number after that is a zigzag varint,
/// offsets as gaps from the one before, so a run of acks or a page of leases costs a few bytes each.
/// </summary>
internal static class CursorStateCodec
{
    /// <summary>Bytes before a frame's payload.</summary>
    public const int HeaderBytes = 8;

    /// <summary>Larger payloads are not believed (a damaged length field), however many bytes follow.</summary>
    public const int MaxPayloadBytes = 256 << 20;

    private const byte Version = 1;
    private const byte SnapshotKind = 1, DeltaKind = 2;
    private const byte AckedFlag = 1, AttemptsFlag = 2, RetryFlag = 4;

    /// <summary>A snapshot frame (header and payload) naming the cursor it belongs to.</summary>
    public static byte[] EncodeSnapshot(string cursorKey, CursorStateSnapshot snapshot)
    {
        var writer = new ArrayBufferWriter<byte>(256 + (snapshot.Acked.Count * 4) + (snapshot.Attempts.Count * 4));
        writer.GetSpan(HeaderBytes)[..HeaderBytes].Clear();
        writer.Advance(HeaderBytes);
        writer.Write([Version, SnapshotKind]);
        byte[] key = Encoding.UTF8.GetBytes(cursorKey);
        Number(writer, key.Length);
        writer.Write(key);
        Number(writer, snapshot.Committed);
        Number(writer, snapshot.Expired);
        Number(writer, snapshot.DeadLettered);
        Number(writer, snapshot.Skipped);
        Number(writer, snapshot.Acked.Count);
        long previous = snapshot.Committed;
        foreach (var (start, end) in snapshot.Acked)
        {
            Number(writer, start - previous);
            Number(writer, end - start);
            previous = end;
        }
        Number(writer, snapshot.Attempts.Count);
        // Attempts and delays are listed from offset 0, not the committed offset: any offset is written as it is.
        previous = 0;
        foreach (var (offset, attempts) in snapshot.Attempts.OrderBy(a => a.Key))
        {
            Number(writer, offset - previous);
            Number(writer, attempts);
            previous = offset;
        }
        Number(writer, snapshot.RetryAt.Count);
        previous = 0;
        foreach (var (offset, due) in snapshot.RetryAt.OrderBy(a => a.Key))
        {
            Number(writer, offset - previous);
            Number(writer, due);
            previous = offset;
        }
        return Frame(writer);
    }

    /// <summary>A delta frame (header and payload).</summary>
    public static byte[] EncodeDelta(CursorStateDelta delta)
    {
        var writer = new ArrayBufferWriter<byte>(64 + (delta.Offsets.Count * 4));
        writer.GetSpan(HeaderBytes)[..HeaderBytes].Clear();
        writer.Advance(HeaderBytes);
        writer.Write([Version, DeltaKind]);
        Number(writer, delta.Committed);
        Number(writer, delta.Expired);
        Number(writer, delta.DeadLettered);
        Number(writer, delta.Skipped);
        Number(writer, delta.Offsets.Count);
        long previous = delta.Committed;
        foreach (var status in delta.Offsets)
        {
            Number(writer, status.Offset - previous);
            previous = status.Offset;
            byte flags = (byte)((status.Acked ? AckedFlag : 0) | (status.Attempts != 0 ? AttemptsFlag : 0) | (status.RetryAtMs is not null ? RetryFlag : 0));
            writer.Write([flags]);
            if (status.Attempts != 0) Number(writer, status.Attempts);
            if (status.RetryAtMs is { } due) Number(writer, due);
        }
        return Frame(writer);
    }

    /// <summary>
    /// Reads the frame header at the start of <paramref name="bytes"/>: false when fewer bytes than the header, or than
    /// the payload it announces, remain (a frame cut short).
    /// </summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> bytes, out int payloadLength, out uint crc)
    {
        payloadLength = 0;
        crc = 0;
        if (bytes.Length < HeaderBytes) return false;
        payloadLength = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        crc = BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]);
        return payloadLength >= 0 && payloadLength <= MaxPayloadBytes && payloadLength <= bytes.Length - HeaderBytes;
    }

    /// <summary>True when the payload matches the CRC of its header.</summary>
    public static bool ChecksumMatches(ReadOnlySpan<byte> payload, uint crc) => Checksum.Crc32C(payload) == crc;

    /// <summary>True when <paramref name="payload"/> (checksum verified) is a snapshot rather than a delta.</summary>
    public static bool IsSnapshot(ReadOnlySpan<byte> payload) => payload.Length >= 2 && payload[1] == SnapshotKind;

    /// <summary>Decodes a snapshot payload; null with <paramref name="problem"/> set when it cannot be read.</summary>
    public static CursorStateSnapshot? DecodeSnapshot(ReadOnlySpan<byte> payload, out string cursorKey, out string? problem)
    {
        cursorKey = "";
        problem = Kind(payload, SnapshotKind);
        if (problem is not null) return null;
        int position = 2;
        if (!TryNumber(payload, ref position, out long keyLength) || keyLength < 0 || keyLength > payload.Length - position)
            return Fail(out problem, "the cursor key is unreadable");
        cursorKey = Encoding.UTF8.GetString(payload.Slice(position, (int)keyLength));
        position += (int)keyLength;
        var snapshot = new CursorStateSnapshot();
        if (!TryNumber(payload, ref position, out long committed) || !TryNumber(payload, ref position, out long expired)
            || !TryNumber(payload, ref position, out long deadLettered) || !TryNumber(payload, ref position, out long skipped)
            || !TryCount(payload, ref position, out int ranges))
            return Fail(out problem, "the snapshot header is cut short");
        (snapshot.Committed, snapshot.Expired, snapshot.DeadLettered, snapshot.Skipped) = (committed, expired, deadLettered, skipped);
        long previous = committed;
        for (int i = 0; i < ranges; i++)
        {
            if (!TryNumber(payload, ref position, out long gap) || !TryNumber(payload, ref position, out long length) || gap < 0 || length <= 0)
                return Fail(out problem, "an acknowledged range is unreadable");
            long start = previous + gap;
            snapshot.Acked.Add((start, start + length));
            previous = start + length;
        }
        if (!TryCount(payload, ref position, out int attempts)) return Fail(out problem, "the attempts are cut short");
        previous = 0;
        for (int i = 0; i < attempts; i++)
        {
            if (!TryNumber(payload, ref position, out long gap) || !TryNumber(payload, ref position, out long count) || gap < 0 || count is < int.MinValue or > int.MaxValue)
                return Fail(out problem, "an attempt count is unreadable");
            previous += gap;
            snapshot.Attempts[previous] = (int)count;
        }
        if (!TryCount(payload, ref position, out int retries)) return Fail(out problem, "the nack delays are cut short");
        previous = 0;
        for (int i = 0; i < retries; i++)
        {
            if (!TryNumber(payload, ref position, out long gap) || !TryNumber(payload, ref position, out long due) || gap < 0)
                return Fail(out problem, "a nack delay is unreadable");
            previous += gap;
            snapshot.RetryAt[previous] = due;
        }
        return position == payload.Length ? snapshot : Fail(out problem, "bytes follow the snapshot");
    }

    /// <summary>The cursor key a snapshot payload names, without decoding the rest; false when it cannot be read.</summary>
    public static bool TryReadCursorKey(ReadOnlySpan<byte> payload, out string cursorKey)
    {
        cursorKey = "";
        int position = 2;
        if (Kind(payload, SnapshotKind) is not null || !TryNumber(payload, ref position, out long keyLength)
            || keyLength < 0 || keyLength > payload.Length - position) return false;
        cursorKey = Encoding.UTF8.GetString(payload.Slice(position, (int)keyLength));
        return true;
    }

    /// <summary>Decodes a delta payload; null with <paramref name="problem"/> set when it cannot be read.</summary>
    public static CursorStateDelta? DecodeDelta(ReadOnlySpan<byte> payload, out string? problem)
    {
        problem = Kind(payload, DeltaKind);
        if (problem is not null) return null;
        int position = 2;
        if (!TryNumber(payload, ref position, out long committed) || !TryNumber(payload, ref position, out long expired)
            || !TryNumber(payload, ref position, out long deadLettered) || !TryNumber(payload, ref position, out long skipped)
            || !TryCount(payload, ref position, out int count))
            return FailDelta(out problem, "the delta header is cut short");
        var delta = new CursorStateDelta { Committed = committed, Expired = expired, DeadLettered = deadLettered, Skipped = skipped };
        long previous = committed;
        for (int i = 0; i < count; i++)
        {
            if (!TryNumber(payload, ref position, out long gap) || position >= payload.Length)
                return FailDelta(out problem, "an offset's status is unreadable");
            previous += gap;
            byte flags = payload[position++];
            long attempts = 0, due = 0;
            if ((flags & ~(AckedFlag | AttemptsFlag | RetryFlag)) != 0
                || ((flags & AttemptsFlag) != 0 && (!TryNumber(payload, ref position, out attempts) || attempts is < int.MinValue or > int.MaxValue))
                || ((flags & RetryFlag) != 0 && !TryNumber(payload, ref position, out due)))
                return FailDelta(out problem, "an offset's status is unreadable");
            delta.Offsets.Add(new CursorOffsetStatus(previous, (flags & AckedFlag) != 0, (int)attempts, (flags & RetryFlag) != 0 ? due : null));
        }
        return position == payload.Length ? delta : FailDelta(out problem, "bytes follow the delta");
    }

    private static string? Kind(ReadOnlySpan<byte> payload, byte kind)
    {
        if (payload.Length < 2) return "the frame is too short";
        if (payload[0] != Version) return $"unknown format version {payload[0]}";
        return payload[1] == kind ? null : $"frame kind {payload[1]} where {kind} was expected";
    }

    private static CursorStateSnapshot? Fail(out string? problem, string reason)
    {
        problem = reason;
        return null;
    }

    private static CursorStateDelta? FailDelta(out string? problem, string reason)
    {
        problem = reason;
        return null;
    }

    private static bool TryNumber(ReadOnlySpan<byte> payload, ref int position, out long value) => VarInt.TryRead(payload, ref position, out value);

    private static bool TryCount(ReadOnlySpan<byte> payload, ref int position, out int count)
    {
        count = 0;
        // Every entry takes at least one byte: a larger count is damage, not a reason to allocate.
        if (!VarInt.TryRead(payload, ref position, out long value) || value < 0 || value > payload.Length - position) return false;
        count = (int)value;
        return true;
    }

    private static void Number(ArrayBufferWriter<byte> writer, long value)
    {
        int written = VarInt.Write(writer.GetSpan(VarInt.MaxLength64), value);
        writer.Advance(written);
    }

    /// <summary>Fills in the header reserved at the start of <paramref name="writer"/> and returns the frame.</summary>
    private static byte[] Frame(ArrayBufferWriter<byte> writer)
    {
        byte[] frame = writer.WrittenSpan.ToArray();
        var payload = frame.AsSpan(HeaderBytes);
        BinaryPrimitives.WriteInt32LittleEndian(frame, payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), Checksum.Crc32C(payload));
        return frame;
    }
}
