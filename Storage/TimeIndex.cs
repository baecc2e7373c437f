using System.Runtime.InteropServices;

namespace Granary.Storage;

/// <summary>
/// A time index entry: the largest record timestamp of all batches up to and including the one whose base is
/// <c>segmentBase + RelativeOffset</c> is <c>TimestampMs</c>.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal readonly record struct TimeIndexEntry(long TimestampMs, int RelativeOffset);

/// <summary>Sparse map from timestamps to offsets in one segment; timestamps in it never decrease.</summary>
internal sealed class TimeIndex : SparseIndex<TimeIndexEntry>
{
    public long LastTimestampMs
    {
        get
        {
            var entries = Snapshot();
            return entries.IsEmpty ? long.MinValue : entries[^1].TimestampMs;
        }
    }

    /// <summary>Relative offset of the batch the last entry ends at, or null when there is no entry.</summary>
    public int? LastRelativeOffset
    {
        get
        {
            var entries = Snapshot();
            return entries.IsEmpty ? null : entries[^1].RelativeOffset;
        }
    }

    public void Add(long timestampMs, int relativeOffset) => Add(new TimeIndexEntry(timestampMs, relativeOffset));

    /// <summary>
    /// The relative offset of the last entry whose timestamp is below <paramref name="timestampMs"/>: every record up to
    /// it is older than the target, so a search may start there. Null when there is none.
    /// </summary>
    public int? FindLastBefore(long timestampMs)
    {
        int index = FindLast(timestampMs, static (e, key) => e.TimestampMs < key);
        return index < 0 ? null : EntryAt(index).RelativeOffset;
    }

    /// <summary>Drops the entries at or after <paramref name="relativeOffset"/>.</summary>
    public void TruncateFromOffset(long relativeOffset) => TruncateTo(FindLast(relativeOffset, static (e, key) => e.RelativeOffset < key) + 1);

    /// <summary>True when timestamps never decrease and offsets grow strictly.</summary>
    public bool IsConsistent(long nextRelativeOffset)
    {
        var entries = Snapshot();
        for (int i = 0; i < entries.Length; i++)
        {
            var e = entries[i];
            if (e.RelativeOffset < 0 || e.RelativeOffset >= nextRelativeOffset) return false;
            if (i > 0 && (e.TimestampMs < entries[i - 1].TimestampMs || e.RelativeOffset <= entries[i - 1].RelativeOffset)) return false;
        }
        return true;
    }
}
