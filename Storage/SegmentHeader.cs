using Granary.Records;
using System.Buffers.Binary;

namespace Granary.Storage;

/// <summary>
/// The 32-byte header at the start of every segment file (little-endian):
/// <code>
///  0 magic:uint32 "GRNL"   4 formatVersion:uint16   6 minCompatibleVersion:uint16
///  8 baseOffset:int64     16 createdAtMs:int64      24 reserved:uint32   28 crc32c:uint32 of bytes [0, 28)
/// </code>
/// A reader whose version is below <c>minCompatibleVersion</c> must refuse the file rather than misread it.
/// </summary>
internal readonly record struct SegmentHeader(ushort FormatVersion, ushort MinCompatibleVersion, long BaseOffset, long CreatedAtMs)
{
    public const int Size = 32;
    public const uint Magic = 0x4C4E5247; // "GRNL"
    public const ushort CurrentVersion = 1;

    public static SegmentHeader Create(long baseOffset, long createdAtMs) => new(CurrentVersion, CurrentVersion, baseOffset, createdAtMs);

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], MinCompatibleVersion);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], BaseOffset);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], CreatedAtMs);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[28..], Checksum.Crc32C(destination[..28]));
    }

    /// <summary>Parses a header; null reason when it is intact.</summary>
    public static SegmentHeader? TryRead(ReadOnlySpan<byte> source, out string? problem)
    {
        problem = null;
        if (source.Length < Size) { problem = "file shorter than the segment header"; return null; }
        if (BinaryPrimitives.ReadUInt32LittleEndian(source) != Magic) { problem = "bad magic"; return null; }
        if (BinaryPrimitives.ReadUInt32LittleEndian(source[28..]) != Checksum.Crc32C(source[..28])) { problem = "header CRC mismatch"; return null; }
        return new SegmentHeader(
            BinaryPrimitives.ReadUInt16LittleEndian(source[4..]),
            BinaryPrimitives.ReadUInt16LittleEndian(source[6..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[8..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[16..]));
    }
}
