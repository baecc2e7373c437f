using System.Runtime.InteropServices;

namespace Granary.Storage;

/// <summary>An offset index entry: the batch whose base is <c>segmentBase + RelativeOffset</c> starts at <c>Position</c>.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal readonly record struct OffsetIndexEntry(int RelativeOffset, int Position);

/// <summary>Sparse map from offsets to batch positions in one segment: one entry per index interval of bytes.</summary>
internal sealed class OffsetIndex : SparseIndex<OffsetIndexEntry>
{
    public void Add(int relativeOffset, int position) => Add(new OffsetIndexEntry(relativeOffset, position));

    /// <summary>The last entry at or before <paramref name="relativeOffset"/>, or null when there is none.</summary>
    public OffsetIndexEntry? FindFloor(long relativeOffset)
    {
        int index = FindLast(relativeOffset, static (e, key) => e.RelativeOffset <= key);
        return index < 0 ? null : EntryAt(index);
    }

    /// <summary>The first entry after <paramref name="position"/>, or null when there is none.</summary>
    public OffsetIndexEntry? FindFirstAfter(long position)
    {
        int index = FindLast(position, static (e, key) => e.Position <= key) + 1;
        return index < Count ? EntryAt(index) : null;
    }

    /// <summary>Drops the entries at or after <paramref name="position"/>.</summary>
    public void TruncateFromPosition(long position) => TruncateTo(FindLast(position, static (e, key) => e.Position < key) + 1);

    /// <summary>True when entries grow strictly and point inside the segment.</summary>
    public bool IsConsistent(long segmentSize)
    {
        var entries = Snapshot();
        for (int i = 0; i < entries.Length; i++)
        {
            var e = entries[i];
            if (e.RelativeOffset < 0 || e.Position < SegmentHeader.Size || e.Position >= segmentSize) return false;
            if (i > 0 && (e.RelativeOffset <= entries[i - 1].RelativeOffset || e.Position <= entries[i - 1].Position)) return false;
        }
        return true;
    }
}
