namespace Granary.Storage;

/// <summary>
/// Message ids a partition stored within the topic's dedup window, with the offset of the stored copy. Memory is
/// bounded by the window: entries are kept in arrival order and dropped once older than it. Not thread-safe: the
/// partition grain's turns serialise every use. Ids are kept as their 128-bit XxHash128 (of the id's UTF-8 bytes), read
/// straight from the encoded records: no string per message, and a collision between two different ids within one
/// window is not a practical concern at 128 bits.
/// </summary>
internal sealed class MessageIdWindow(TimeSpan window)
{
    private readonly long _windowMs = (long)window.TotalMilliseconds;
    private readonly Dictionary<UInt128, (long Offset, long TimestampMs)> _ids = [];
    private readonly Queue<(UInt128 Id, long Offset, long TimestampMs)> _order = new();

    public int Count => _ids.Count;

    /// <summary>The offset of the copy of <paramref name="id"/> stored within the window before <paramref name="nowMs"/>.</summary>
    public bool TryGet(UInt128 id, long nowMs, out long offset)
    {
        if (_ids.TryGetValue(id, out var entry) && entry.TimestampMs >= nowMs - _windowMs)
        {
            offset = entry.Offset;
            return true;
        }
        offset = -1;
        return false;
    }

    /// <summary>Remembers a stored copy; a later copy (stored after the window passed) replaces the earlier one.</summary>
    public void Add(UInt128 id, long offset, long timestampMs)
    {
        _ids[id] = (offset, timestampMs);
        _order.Enqueue((id, offset, timestampMs));
    }

    /// <summary>Drops entries older than the window.</summary>
    public void Evict(long nowMs)
    {
        long oldest = nowMs - _windowMs;
        while (_order.TryPeek(out var head) && head.TimestampMs < oldest)
        {
            _order.Dequeue();
            // Only if it is still this copy: a repeat stored after the window has its own, younger entry.
            if (_ids.TryGetValue(head.Id, out var current) && current.Offset == head.Offset) _ids.Remove(head.Id);
        }
    }
}
