namespace Granary.Grains.Delivery;

/// <summary>
/// A set of offsets kept as sorted, disjoint, non-adjacent ranges [start, end): a run of offsets costs one entry, not
/// a set node per offset. The cursor keeps two: the offsets acknowledged (or otherwise done) above the committed
/// offset, and the offsets whose saved status changed since the last save. Both come in runs (a pull leases a run, an
/// ack acks a run), so they hold a few ranges, and <see cref="Clear"/> keeps the list's capacity: a steady drain adds
/// to them without allocating. Adding inside the list moves the ranges after it (a memmove of 16 bytes each): cheap
/// while offsets come roughly in order, as they do. Not thread-safe.
/// </summary>
internal sealed class OffsetRanges
{
    private readonly List<(long Start, long End)> _ranges = [];

    /// <summary>How many offsets are in the set.</summary>
    public long Count { get; private set; }

    /// <summary>How many ranges hold them (the memory this costs is about 16 bytes per range).</summary>
    public int RangeCount => _ranges.Count;

    public bool Contains(long offset)
    {
        int i = IndexOfRangeAtOrBefore(offset);
        return i >= 0 && offset < _ranges[i].End;
    }

    /// <summary>Adds <paramref name="offset"/>; false when it was there already.</summary>
    public bool Add(long offset)
    {
        int i = IndexOfRangeAtOrBefore(offset);
        if (i >= 0 && offset < _ranges[i].End) return false;
        bool joinsPrevious = i >= 0 && _ranges[i].End == offset;
        bool joinsNext = i + 1 < _ranges.Count && _ranges[i + 1].Start == offset + 1;
        if (joinsPrevious && joinsNext)
        {
            _ranges[i] = (_ranges[i].Start, _ranges[i + 1].End);
            _ranges.RemoveAt(i + 1);
        }
        else if (joinsPrevious) _ranges[i] = (_ranges[i].Start, offset + 1);
        else if (joinsNext) _ranges[i + 1] = (offset, _ranges[i + 1].End);
        else _ranges.Insert(i + 1, (offset, offset + 1));
        Count++;
        return true;
    }

    /// <summary>
    /// Where the committed offset moves to from <paramref name="committed"/>: past the range starting there, which
    /// leaves the set (those offsets are below the committed offset now). <paramref name="committed"/> itself when no
    /// range starts there.
    /// </summary>
    public long AdvanceFrom(long committed)
    {
        if (_ranges.Count == 0 || _ranges[0].Start != committed) return committed;
        var (start, end) = _ranges[0];
        _ranges.RemoveAt(0);
        Count -= end - start;
        return end;
    }

    /// <summary>How many offsets of the set are below <paramref name="limit"/>.</summary>
    public long CountBelow(long limit)
    {
        long count = 0;
        foreach (var (start, end) in _ranges)
        {
            if (start >= limit) break;
            count += Math.Min(end, limit) - start;
        }
        return count;
    }

    /// <summary>Drops every offset below <paramref name="limit"/>.</summary>
    public void RemoveBelow(long limit)
    {
        int whole = 0;
        while (whole < _ranges.Count && _ranges[whole].End <= limit) whole++;
        for (int i = 0; i < whole; i++) Count -= _ranges[i].End - _ranges[i].Start;
        _ranges.RemoveRange(0, whole);
        if (_ranges.Count > 0 && _ranges[0].Start < limit)
        {
            Count -= limit - _ranges[0].Start;
            _ranges[0] = (limit, _ranges[0].End);
        }
    }

    /// <summary>
    /// Adds the offsets [<paramref name="start"/>, <paramref name="end"/>): one entry when they lie above every range
    /// (as a saved snapshot's ranges come, ascending), else offset by offset.
    /// </summary>
    public void AddRange(long start, long end)
    {
        if (start >= end) return;
        int last = _ranges.Count - 1;
        if (last < 0 || start > _ranges[last].End)
        {
            _ranges.Add((start, end));
            Count += end - start;
            return;
        }
        for (long offset = start; offset < end; offset++) Add(offset);
    }

    /// <summary>The ranges, ascending (for saving).</summary>
    public IReadOnlyList<(long Start, long End)> Ranges => _ranges;

    public void Clear()
    {
        _ranges.Clear();
        Count = 0;
    }

    /// <summary>Every offset in the set, ascending (as the cursor's saved state lists them).</summary>
    public IEnumerable<long> Offsets()
    {
        foreach (var (start, end) in _ranges)
        {
            for (long offset = start; offset < end; offset++) yield return offset;
        }
    }

    /// <summary>Index of the last range starting at or before <paramref name="offset"/>; -1 when none does.</summary>
    private int IndexOfRangeAtOrBefore(long offset)
    {
        // Acks mostly arrive at the top: look at the last range first.
        int last = _ranges.Count - 1;
        if (last < 0) return -1;
        if (_ranges[last].Start <= offset) return last;
        int lo = 0, hi = last - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_ranges[mid].Start <= offset) lo = mid + 1;
            else hi = mid - 1;
        }
        return hi;
    }
}
