using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Granary.Grains.Delivery;

/// <summary>
/// Values by message offset, for offsets that lie close together (the messages in flight, those waiting to be read
/// again): pages of 32 slots, so that a million near-contiguous entries cost their values and little else (no node,
/// key or hash per entry), while an offset far from the rest costs one page. Enumerates in ascending offset order.
/// Not thread-safe; not to be changed while enumerated.
/// </summary>
/// <typeparam name="T">The value kept per offset (a small struct).</typeparam>
internal sealed class OffsetTable<T> where T : struct
{
    private const int PageBits = 5, PageSize = 1 << PageBits, PageMask = PageSize - 1;
    // Page number (offset >> PageBits) → page; sorted, for ascending enumeration and the lowest offset.
    private readonly SortedDictionary<long, Page> _pages = [];
    // The page used last: offsets are mostly touched in runs (a pull leases a run, acks come in order).
    private long _lastNumber = -1;
    private Page? _last;
    // Emptied pages kept for reuse: leases come and go in runs, and a new page per 32 deliveries was most of what a
    // delivered-and-acknowledged message allocated in the cursor. Few are kept here: the run moves on page by page.
    // Past that, a page's slots go back to the shared array pool, where the next page (of this table or another
    // cursor's) takes them: a fetch fills a whole ready set's pages at once, more than a table keeps, and an idle
    // cursor holds no spare pages beyond these few.
    private readonly Stack<Page> _spare = new();
    private const int SpareLimit = 16;

    private sealed class Page
    {
        public readonly T[] Slots = ArrayPool<T>.Shared.Rent(PageSize);
        public uint Occupied;
    }

    /// <summary>How many offsets have a value.</summary>
    public int Count { get; private set; }

    /// <summary>The lowest offset with a value, if any.</summary>
    public long? Lowest
    {
        get
        {
            foreach (var (number, page) in _pages) return (number << PageBits) + BitOperations.TrailingZeroCount(page.Occupied);
            return null;
        }
    }

    public bool Contains(long offset) => Find(offset) is { } page && (page.Occupied & Bit(offset)) != 0;

    public bool TryGetValue(long offset, out T value)
    {
        if (Find(offset) is { } page && (page.Occupied & Bit(offset)) != 0)
        {
            value = page.Slots[offset & PageMask];
            return true;
        }
        value = default;
        return false;
    }

    /// <summary>Adds or replaces the value of <paramref name="offset"/>.</summary>
    /// <summary>Adds <paramref name="value"/> at <paramref name="offset"/> unless that offset holds one already.</summary>
    /// <returns>True when added.</returns>
    public bool TryAdd(long offset, in T value)
    {
        if (Contains(offset)) return false;
        Set(offset, value);
        return true;
    }

    public void Set(long offset, in T value)
    {
        long number = offset >> PageBits;
        var page = Find(offset);
        if (page is null)
        {
            page = _spare.TryPop(out var spare) ? spare : new Page();
            _pages.Add(number, page);
            (_lastNumber, _last) = (number, page);
        }
        uint bit = Bit(offset);
        if ((page.Occupied & bit) == 0)
        {
            page.Occupied |= bit;
            Count++;
        }
        page.Slots[offset & PageMask] = value;
    }

    public bool Remove(long offset)
    {
        var page = Find(offset);
        uint bit = Bit(offset);
        if (page is null || (page.Occupied & bit) == 0) return false;
        page.Occupied &= ~bit;
        page.Slots[offset & PageMask] = default;
        Count--;
        if (page.Occupied == 0)
        {
            _pages.Remove(offset >> PageBits);
            if (ReferenceEquals(_last, page)) (_lastNumber, _last) = (-1, null);
            if (_spare.Count < SpareLimit) _spare.Push(page); // every slot was cleared as it was removed
            else ArrayPool<T>.Shared.Return(page.Slots); // cleared already
        }
        return true;
    }

    public void Clear()
    {
        foreach (var page in _pages.Values)
        {
            // Values may hold references (a fetched buffer): none is kept alive from the pool.
            if (RuntimeHelpers.IsReferenceOrContainsReferences<T>()) Array.Clear(page.Slots);
            page.Occupied = 0;
            if (_spare.Count < SpareLimit) _spare.Push(page);
            else ArrayPool<T>.Shared.Return(page.Slots);
        }
        _pages.Clear();
        (_lastNumber, _last, Count) = (-1, null, 0);
    }

    /// <summary>The entries in ascending offset order.</summary>
    public IEnumerable<(long Offset, T Value)> Entries()
    {
        foreach (var (number, page) in _pages)
        {
            for (uint occupied = page.Occupied; occupied != 0; occupied &= occupied - 1)
            {
                int slot = BitOperations.TrailingZeroCount(occupied);
                yield return ((number << PageBits) + slot, page.Slots[slot]);
            }
        }
    }

    /// <summary>The entries below <paramref name="end"/>, ascending.</summary>
    public IEnumerable<(long Offset, T Value)> Below(long end) => Entries().TakeWhile(e => e.Offset < end);

    private Page? Find(long offset)
    {
        long number = offset >> PageBits;
        if (number == _lastNumber) return _last;
        if (!_pages.TryGetValue(number, out var page)) return null;
        (_lastNumber, _last) = (number, page);
        return page;
    }

    private static uint Bit(long offset) => 1u << (int)(offset & PageMask);
}
