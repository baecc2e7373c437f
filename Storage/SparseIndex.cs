using Granary.Records;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Granary.Storage;

/// <summary>
/// An append-only array of index entries with one writer and lock-free readers, plus its file form.
/// While a segment is open the in-memory entries are the truth; the file is written whole when the segment is
/// sealed or closed, so it never needs patching. File layout (little-endian): the entries, then a 32-byte trailer
/// <code>magic:uint32 "GIDX" | version:uint16 | entrySize:uint16 | entryCount:int32 | coveredBytes:int64 |
/// nextOffset:int64 | crc32c:uint32 of everything before it</code>
/// where coveredBytes is the segment size the entries describe and nextOffset the offset at that position.
/// A file whose CRC, sizes or trailer do not check out is ignored and the index is rebuilt from the segment.
/// </summary>
internal class SparseIndex<TEntry> where TEntry : unmanaged
{
    private const uint Magic = 0x58444947; // "GIDX"
    private const int TrailerSize = 32;
    private static readonly int EntrySize = Marshal.SizeOf<TEntry>();

    private TEntry[] _entries = new TEntry[16];
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Entries visible to readers: a reader takes the count first, then the array (published before it).</summary>
    protected ReadOnlySpan<TEntry> Snapshot()
    {
        int count = Volatile.Read(ref _count);
        return Volatile.Read(ref _entries).AsSpan(0, count);
    }

    /// <summary>Writer only.</summary>
    protected void Add(TEntry entry)
    {
        if (_count == _entries.Length)
        {
            var larger = new TEntry[_entries.Length * 2];
            _entries.AsSpan().CopyTo(larger);
            Volatile.Write(ref _entries, larger);
        }
        _entries[_count] = entry;
        Volatile.Write(ref _count, _count + 1);
    }

    /// <summary>Writer only: keeps the first <paramref name="count"/> entries.</summary>
    protected void TruncateTo(int count) => Volatile.Write(ref _count, Math.Min(count, _count));

    public void Clear() => TruncateTo(0);

    /// <summary>
    /// Index of the last entry for which <paramref name="isBefore"/> holds, or -1. The predicate must hold for a prefix
    /// of the entries and not after it (entries are ordered).
    /// </summary>
    protected int FindLast(long key, Func<TEntry, long, bool> isBefore)
    {
        var entries = Snapshot();
        int lo = 0, hi = entries.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (isBefore(entries[mid], key)) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found;
    }

    protected TEntry EntryAt(int index) => Snapshot()[index];

    /// <summary>Writes the index file atomically (temp file, then rename).</summary>
    public void Save(string path, long coveredBytes, long nextOffset)
    {
        var entries = MemoryMarshal.AsBytes(Snapshot());
        var bytes = new byte[entries.Length + TrailerSize];
        entries.CopyTo(bytes);
        var trailer = bytes.AsSpan(entries.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(trailer[4..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(trailer[6..], (ushort)EntrySize);
        BinaryPrimitives.WriteInt32LittleEndian(trailer[8..], entries.Length / EntrySize);
        BinaryPrimitives.WriteInt64LittleEndian(trailer[12..], coveredBytes);
        BinaryPrimitives.WriteInt64LittleEndian(trailer[20..], nextOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer[28..], Checksum.Crc32C(bytes.AsSpan(0, bytes.Length - 4)));
        string temp = path + LogFileNames.TempSuffix;
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Loads an index file; false (and nothing loaded) when it is missing or fails any check.</summary>
    public bool TryLoad(string path, out long coveredBytes, out long nextOffset, out string? problem)
    {
        coveredBytes = 0;
        nextOffset = 0;
        problem = null;
        byte[] bytes;
        try
        {
            if (!File.Exists(path)) { problem = "missing"; return false; }
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e) { problem = e.Message; return false; }
        catch (UnauthorizedAccessException e) { problem = e.Message; return false; }

        if (bytes.Length < TrailerSize || (bytes.Length - TrailerSize) % EntrySize != 0) { problem = $"size {bytes.Length} is not entries plus trailer"; return false; }
        var trailer = bytes.AsSpan(bytes.Length - TrailerSize);
        if (BinaryPrimitives.ReadUInt32LittleEndian(trailer) != Magic
            || BinaryPrimitives.ReadUInt16LittleEndian(trailer[6..]) != EntrySize
            || BinaryPrimitives.ReadInt32LittleEndian(trailer[8..]) != (bytes.Length - TrailerSize) / EntrySize)
        {
            problem = "bad trailer";
            return false;
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(trailer[28..]) != Checksum.Crc32C(bytes.AsSpan(0, bytes.Length - 4))) { problem = "CRC mismatch"; return false; }

        var loaded = MemoryMarshal.Cast<byte, TEntry>(bytes.AsSpan(0, bytes.Length - TrailerSize));
        var entries = new TEntry[Math.Max(16, loaded.Length * 2)];
        loaded.CopyTo(entries);
        Volatile.Write(ref _entries, entries);
        Volatile.Write(ref _count, loaded.Length);
        coveredBytes = BinaryPrimitives.ReadInt64LittleEndian(trailer[12..]);
        nextOffset = BinaryPrimitives.ReadInt64LittleEndian(trailer[20..]);
        return true;
    }
}
