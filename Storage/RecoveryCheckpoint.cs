using Granary.Records;
using System.Buffers.Binary;

namespace Granary.Storage;

/// <summary>
/// The recovery point of a partition: every byte before <see cref="Position"/> in segment <see cref="SegmentBaseOffset"/>
/// (and in every earlier segment) was on disk when the checkpoint was written, so recovery trusts it and re-verifies
/// only what follows. File layout (little-endian, 36 bytes), replaced atomically:
/// <code>magic:uint32 "GCKP" | version:uint16 | reserved:uint16 | nextOffset:int64 | segmentBaseOffset:int64 |
/// position:int64 | crc32c:uint32 of the 32 bytes before it</code>
/// </summary>
internal readonly record struct RecoveryCheckpoint(long NextOffset, long SegmentBaseOffset, long Position)
{
    private const uint Magic = 0x504B4347; // "GCKP"
    private const int Size = 36;

    public static RecoveryCheckpoint? TryRead(string directory, out string? problem)
    {
        problem = null;
        string path = LogFileNames.CheckpointFile(directory);
        byte[] bytes;
        try
        {
            if (!File.Exists(path)) return null;
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e) { problem = e.Message; return null; }
        if (bytes.Length != Size
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(32)) != Checksum.Crc32C(bytes.AsSpan(0, 32)))
        {
            problem = "checkpoint file is damaged";
            return null;
        }
        return new RecoveryCheckpoint(
            BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8)),
            BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(16)),
            BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(24)));
    }

    /// <summary>Writes a temp file, fsyncs it, renames it over the old checkpoint and fsyncs the directory.</summary>
    public void Write(string directory)
    {
        Span<byte> bytes = stackalloc byte[Size];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[4..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[6..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(bytes[8..], NextOffset);
        BinaryPrimitives.WriteInt64LittleEndian(bytes[16..], SegmentBaseOffset);
        BinaryPrimitives.WriteInt64LittleEndian(bytes[24..], Position);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[32..], Checksum.Crc32C(bytes[..32]));
        AtomicFile.Replace(LogFileNames.CheckpointFile(directory), bytes);
    }
}
