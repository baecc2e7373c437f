using Granary.Records;
using System.Buffers.Binary;
using Granary.Storage;

namespace Granary.Grains.Hosting.StateFiles;

/// <summary>
/// The frame around every small state file of embedded mode (grain state, reminders): a magic number, a format
/// version and the body's length up front, the CRC32C of everything before it at the end. A torn, cut, truncated or
/// bit-flipped file fails <see cref="TryDecode"/>; files of the unframed earlier format are recognised as legacy.
/// </summary>
/// <remarks>
/// Layout (little-endian): <c>magic[4] "GrS\xF1" | version u16 | reserved u16 (0) | body length i32 | body | crc32c u32</c>.
/// </remarks>
internal static class StateFileFormat
{
    /// <summary>The one format version this code writes and reads.</summary>
    public const ushort Version = 1;

    private const int HeaderBytes = 12;
    private const int TrailerBytes = 4;
    private static ReadOnlySpan<byte> Magic => [0x47, 0x72, 0x53, 0xF1];

    /// <summary>The framed file for <paramref name="body"/>.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> body)
    {
        var file = new byte[HeaderBytes + body.Length + TrailerBytes];
        Magic.CopyTo(file);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(4), Version);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(8), body.Length);
        body.CopyTo(file.AsSpan(HeaderBytes));
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(file.Length - TrailerBytes), Checksum.Crc32C(file.AsSpan(0, file.Length - TrailerBytes)));
        return file;
    }

    /// <summary>
    /// True when <paramref name="file"/> is framed (or meant to be: at least two of its first four bytes are the
    /// magic's, so a flipped magic byte is damage, never mistaken for the legacy format).
    /// </summary>
    public static bool LooksFramed(ReadOnlySpan<byte> file)
    {
        int matching = 0;
        for (int i = 0; i < Magic.Length && i < file.Length; i++)
            if (file[i] == Magic[i]) matching++;
        return matching >= 2;
    }

    /// <summary>The body of a framed file that passes every check; otherwise false and why, in <paramref name="problem"/>.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> file, out ReadOnlyMemory<byte> body, out string problem)
    {
        body = default;
        var span = file.Span;
        if (span.Length < HeaderBytes + TrailerBytes) { problem = $"it is {span.Length} bytes long, shorter than the frame"; return false; }
        if (!span[..4].SequenceEqual(Magic)) { problem = "its magic number is wrong"; return false; }
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(span[4..]);
        if (version != Version) { problem = $"it has format version {version}; this silo reads version {Version}"; return false; }
        if (BinaryPrimitives.ReadUInt16LittleEndian(span[6..]) != 0) { problem = "its reserved header bytes are not zero"; return false; }
        int length = BinaryPrimitives.ReadInt32LittleEndian(span[8..]);
        if (length != span.Length - HeaderBytes - TrailerBytes) { problem = $"its header says {length} body bytes, the file holds {span.Length - HeaderBytes - TrailerBytes}"; return false; }
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(span[^TrailerBytes..]);
        uint computed = Checksum.Crc32C(span[..^TrailerBytes]);
        if (stored != computed) { problem = $"its checksum does not match (stored {stored:x8}, computed {computed:x8})"; return false; }
        body = file.Slice(HeaderBytes, length);
        problem = "";
        return true;
    }
}
