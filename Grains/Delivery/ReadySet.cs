using Granary.Grains.Cursors;

namespace Granary.Grains.Delivery;

/// <summary>
/// The messages ready to go out, by offset, holding one reference to the pooled fetched buffer of each message over one
/// (<see cref="BufferedMessage.Owner"/>): taken when a message comes in, released when it leaves (removed, replaced,
/// cleared), or handed with the message to whoever takes it out for a pull (<see cref="TakeOut"/>). So a fetched buffer
/// goes back to its pool exactly when the last message over it left, and never before.
/// </summary>
/// <remarks>
/// A message removed here must not be read afterwards (its buffer may be back in the pool): one that is still needed
/// (a dead letter) is made independent with <see cref="BufferedMessage.Compact"/> before it is removed. Not thread-safe;
/// not to be changed while enumerated.
/// </remarks>
internal sealed class ReadySet
{
    private readonly OffsetTable<BufferedMessage> _messages = new();

    /// <summary>How many messages are ready.</summary>
    public int Count => _messages.Count;

    /// <summary>The messages in ascending offset order.</summary>
    public OffsetTable<BufferedMessage>.EntryList Entries() => _messages.Entries();

    /// <summary>The messages below <paramref name="end"/>, ascending.</summary>
    public IEnumerable<(long Offset, BufferedMessage Value)> Below(long end) => _messages.Below(end);

    /// <summary>Adds <paramref name="message"/> unless its offset is ready already; true when added (its buffer referenced).</summary>
    public bool TryAdd(in BufferedMessage message)
    {
        if (_messages.Contains(message.Offset)) return false;
        message.Owner?.AddReference();
        _messages.Set(message.Offset, message);
        return true;
    }

    /// <summary>Adds or replaces the message at its offset; a replaced one's buffer reference is released.</summary>
    public void Set(in BufferedMessage message)
    {
        // Referenced before the old one is released: replacing a message by itself never drops the count to zero.
        message.Owner?.AddReference();
        if (_messages.TryGetValue(message.Offset, out var replaced)) replaced.Owner?.Release();
        _messages.Set(message.Offset, message);
    }

    /// <summary>Removes the message at <paramref name="offset"/> and releases its buffer reference; false when none is ready there.</summary>
    public bool Remove(long offset)
    {
        if (!_messages.TryGetValue(offset, out var removed)) return false;
        _messages.Remove(offset);
        removed.Owner?.Release();
        return true;
    }

    /// <summary>
    /// Removes the message at <paramref name="offset"/> for a pull, which takes over its buffer reference: the pull
    /// releases it (<see cref="BufferedMessage.Owner"/>) once it copied the record. False when none is ready there.
    /// </summary>
    public bool TakeOut(long offset, out BufferedMessage message)
    {
        if (!_messages.TryGetValue(offset, out message)) return false;
        _messages.Remove(offset);
        return true;
    }

    /// <summary>Removes every message, releasing their buffer references.</summary>
    public void Clear()
    {
        foreach (var (_, message) in _messages.Entries()) message.Owner?.Release();
        _messages.Clear();
    }

    /// <summary>Releases the buffer references of messages a pull took out (<see cref="TakeOut"/>) and copied, and empties the list.</summary>
    public static void ReleaseTaken(List<BufferedMessage> taken)
    {
        foreach (var message in taken) message.Owner?.Release();
        taken.Clear();
    }
}
