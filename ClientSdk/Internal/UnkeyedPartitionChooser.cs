namespace Granary.Client.Internal;

/// <summary>
/// Chooses the partition of a message with neither key, message id nor explicit partition, by
/// <see cref="UnkeyedPartitioning"/>. Not thread-safe: the producer calls it under its routing lock.
/// </summary>
internal sealed class UnkeyedPartitionChooser
{
    private readonly UnkeyedPartitioning _mode;
    private readonly int _stickyBytes;
    private int _current;
    private long _bytesOnCurrent;

    /// <param name="mode">Sticky or round-robin.</param>
    /// <param name="stickyBytes">With <see cref="UnkeyedPartitioning.Sticky"/>: bytes that go to one partition before the next.</param>
    /// <param name="start">
    /// The first partition (taken modulo the partition count): random in the producer, so that producers started
    /// together do not all begin on partition 0.
    /// </param>
    public UnkeyedPartitionChooser(UnkeyedPartitioning mode, int stickyBytes, int start)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        _mode = mode;
        _stickyBytes = stickyBytes;
        _current = start;
    }

    /// <summary>The partition, out of <paramref name="partitions"/>, of a message taking <paramref name="bytes"/> of a batch.</summary>
    public int Next(int bytes, int partitions)
    {
        if (_mode == UnkeyedPartitioning.RoundRobin)
        {
            int next = _current % partitions;
            _current = next + 1;
            return next;
        }
        // The topic was re-created smaller: stay in range, with a fresh share.
        if (_current >= partitions)
        {
            _current %= partitions;
            _bytesOnCurrent = 0;
        }
        // Moving only once the share is used up means a message larger than the share still goes, alone.
        if (_bytesOnCurrent >= _stickyBytes)
        {
            _current = (_current + 1) % partitions;
            _bytesOnCurrent = 0;
        }
        _bytesOnCurrent += bytes;
        return _current;
    }
}
