using System.Buffers;
using System.Collections;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Granary.Grains.Delivery;

/// <summary>
/// Values by message offset, for offsets that lie close together (the messages ready, in flight, those waiting to be
/// read again): pages of 32 slots, so that a million near-contiguous entries cost their values and little else (no node,
/// key or hash per entry), while an offset far from the rest costs one page. Enumerates in ascending offset order.
/// Not thread-safe; not to be changed while enumerated (an enumeration that sees a page come or go throws).
/// </summary>
/// <remarks>
/// Once warm, filling and emptying pages allocates nothing: the pages are kept in an array in ascending order (a ring,
/// since offsets arrive at the top and leave at the bottom), not a tree with a node per page, and their slot arrays come
/// from <see cref="SlotPool"/>. Enumerating (<see cref="Entries"/>) allocates nothing either: a pull walks the ready
/// set this way, and an iterator plus a tree enumerator per pull were most of what the state still allocated.
/// </remarks>
/// <typeparam name="T">The value kept per offset (a small struct).</typeparam>
internal sealed class OffsetTable<T> where T : struct
{
    private const int PageBits = 5, PageSize = 1 << PageBits, PageMask = PageSize - 1;
    private const int InitialPages = 4;
    // A table that emptied keeps its page array up to this many pages (a full ready set of 2,000 messages spans at most
    // 64): one that once held far more (a large in-flight window) gives the rest back.
    private const int KeptPages = 128;

    /// <summary>Most slot arrays kept for reuse, for all tables of this value type in the process together.</summary>
    public const int MaxPooledPages = 1024;

    // The slot arrays of every table of this value type. Not the shared ArrayPool: that one keeps a few arrays per
    // size per core and thread, and a cursor's fetch takes a whole ready set's pages at once (up to 64) on whichever
    // thread runs it, so with a few busy cursors most pages missed it and were new arrays (W2: ~5 bytes a message).
    // This pool keeps up to MaxPooledPages arrays for any thread (at most ~2.5 MB of 80-byte values), is never trimmed,
    // and allocates past that bound only while more pages than that are in use at once.
    private static readonly ArrayPool<T> SlotPool = ArrayPool<T>.Create(PageSize, MaxPooledPages);

    private struct Page
    {
        public long Number; // offset >> PageBits
        public T[] Slots;
        public uint Occupied;
    }

    // The pages in use, ascending by number, as a ring: logical page i is at (_head + i) & (_pages.Length - 1).
    private Page[] _pages = new Page[InitialPages];
    private int _head, _pageCount;
    // The logical index of the page used last (offsets are mostly touched in runs): checked before it is trusted.
    private int _lastIndex;
    // Raised when a page comes or goes, so an enumeration can tell it was changed under it.
    private int _version;

    /// <summary>How many offsets have a value.</summary>
    public int Count { get; private set; }

    /// <summary>The lowest offset with a value, if any.</summary>
    public long? Lowest => _pageCount == 0 ? null : (At(0).Number << PageBits) + BitOperations.TrailingZeroCount(At(0).Occupied);

    public bool Contains(long offset)
    {
        int index = IndexOf(offset >> PageBits);
        return index >= 0 && (At(index).Occupied & Bit(offset)) != 0;
    }

    public bool TryGetValue(long offset, out T value)
    {
        int index = IndexOf(offset >> PageBits);
        if (index >= 0)
        {
            ref var page = ref At(index);
            if ((page.Occupied & Bit(offset)) != 0)
            {
                value = page.Slots[offset & PageMask];
                return true;
            }
        }
        value = default;
        return false;
    }

    /// <summary>Adds <paramref name="value"/> at <paramref name="offset"/> unless that offset holds one already.</summary>
    /// <returns>True when added.</returns>
    public bool TryAdd(long offset, in T value)
    {
        if (Contains(offset)) return false;
        Set(offset, value);
        return true;
    }

    /// <summary>Adds or replaces the value of <paramref name="offset"/>.</summary>
    public void Set(long offset, in T value)
    {
        long number = offset >> PageBits;
        int index = IndexOf(number);
        if (index < 0)
        {
            index = ~index;
            Insert(index, new Page { Number = number, Slots = SlotPool.Rent(PageSize) });
        }
        ref var page = ref At(index);
        uint bit = Bit(offset);
        if ((page.Occupied & bit) == 0)
        {
            page.Occupied |= bit;
            Count++;
        }
        page.Slots[offset & PageMask] = value;
        _lastIndex = index;
    }

    public bool Remove(long offset)
    {
        int index = IndexOf(offset >> PageBits);
        if (index < 0) return false;
        ref var page = ref At(index);
        uint bit = Bit(offset);
        if ((page.Occupied & bit) == 0) return false;
        page.Occupied &= ~bit;
        page.Slots[offset & PageMask] = default;
        Count--;
        if (page.Occupied == 0)
        {
            SlotPool.Return(page.Slots); // every slot was cleared as it was removed
            RemoveAt(index);
        }
        return true;
    }

    public void Clear()
    {
        for (int i = 0; i < _pageCount; i++)
        {
            ref var page = ref At(i);
            // Values may hold references (a fetched buffer): none is kept alive from the pool.
            SlotPool.Return(page.Slots, clearArray: RuntimeHelpers.IsReferenceOrContainsReferences<T>());
            page = default;
        }
        (_head, _pageCount, _lastIndex, Count) = (0, 0, 0, 0);
        _version++;
        ShrinkIfEmpty();
    }

    /// <summary>The entries in ascending offset order (a struct enumeration: <c>foreach</c> over it allocates nothing).</summary>
    public EntryList Entries() => new(this);

    /// <summary>The entries below <paramref name="end"/>, ascending.</summary>
    public IEnumerable<(long Offset, T Value)> Below(long end) => Entries().TakeWhile(e => e.Offset < end);

    /// <summary>The entries of a table, ascending; <c>foreach</c> uses <see cref="GetEnumerator"/> without boxing.</summary>
    public readonly struct EntryList(OffsetTable<T> table) : IEnumerable<(long Offset, T Value)>
    {
        public Enumerator GetEnumerator() => new(table);

        IEnumerator<(long Offset, T Value)> IEnumerable<(long Offset, T Value)>.GetEnumerator() => GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>Walks the pages in order and each page's occupied slots; throws if a page came or went meanwhile.</summary>
    public struct Enumerator : IEnumerator<(long Offset, T Value)>
    {
        private readonly OffsetTable<T> _table;
        private readonly int _version;
        private int _index;
        private long _base;
        private T[]? _slots;
        private uint _remaining;

        internal Enumerator(OffsetTable<T> table)
        {
            _table = table;
            _version = table._version;
            _index = -1;
        }

        public (long Offset, T Value) Current { get; private set; }

        readonly object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            if (_version != _table._version) throw new InvalidOperationException("The offset table was changed while it was enumerated.");
            while (_remaining == 0)
            {
                if (++_index >= _table._pageCount) return false;
                ref var page = ref _table.At(_index);
                (_base, _slots, _remaining) = (page.Number << PageBits, page.Slots, page.Occupied);
            }
            int slot = BitOperations.TrailingZeroCount(_remaining);
            _remaining &= _remaining - 1;
            Current = (_base + slot, _slots![slot]);
            return true;
        }

        public void Reset() => throw new NotSupportedException();

        public readonly void Dispose() { }
    }

    private ref Page At(int index) => ref _pages[(_head + index) & (_pages.Length - 1)];

    /// <summary>The logical index of page <paramref name="number"/>, or the bitwise complement of where it would go.</summary>
    private int IndexOf(long number)
    {
        if (_pageCount == 0) return ~0;
        // The page used last, then the top (offsets arrive there) and the bottom (acks leave there), then a search.
        if (_lastIndex < _pageCount && At(_lastIndex).Number == number) return _lastIndex;
        int lo = 0, hi = _pageCount - 1;
        long top = At(hi).Number;
        if (top == number) return hi;
        if (top < number) return ~_pageCount;
        long bottom = At(0).Number;
        if (bottom == number) return 0;
        if (bottom > number) return ~0;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            long found = At(mid).Number;
            if (found == number) return mid;
            if (found < number) lo = mid + 1;
            else hi = mid - 1;
        }
        return ~lo;
    }

    private void Insert(int index, Page page)
    {
        if (_pageCount == _pages.Length) Grow();
        if (index == 0)
        {
            _head = (_head - 1) & (_pages.Length - 1);
        }
        else
        {
            for (int i = _pageCount; i > index; i--) At(i) = At(i - 1); // moves the pages above it up by one
        }
        At(index) = page;
        _pageCount++;
        _version++;
    }

    private void RemoveAt(int index)
    {
        if (index == 0)
        {
            At(0) = default;
            _head = (_head + 1) & (_pages.Length - 1);
        }
        else
        {
            for (int i = index; i < _pageCount - 1; i++) At(i) = At(i + 1); // moves the pages above it down by one
            At(_pageCount - 1) = default;
        }
        _pageCount--;
        _version++;
        if (_pageCount == 0) ShrinkIfEmpty();
    }

    private void Grow()
    {
        var grown = new Page[_pages.Length * 2];
        for (int i = 0; i < _pageCount; i++) grown[i] = At(i);
        (_pages, _head) = (grown, 0);
    }

    private void ShrinkIfEmpty()
    {
        _head = 0;
        if (_pages.Length > KeptPages) _pages = new Page[InitialPages];
    }

    private static uint Bit(long offset) => 1u << (int)(offset & PageMask);
}
