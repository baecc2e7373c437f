namespace Granary.Grains.Cursors;

/// <summary>
/// The partition as a cursor reads it: the calls <see cref="CursorFetcher"/> makes, so that it needs no Orleans types.
/// The grain supplies <see cref="PartitionGrainReader"/>; tests supply a partition in memory.
/// </summary>
internal interface IPartitionReader
{
    /// <summary>
    /// Up to <paramref name="maxMessages"/> records from <paramref name="fromOffset"/>, waiting up to
    /// <paramref name="maxWait"/> while there are none (<see cref="IPartitionGrain.FetchAsync"/>).
    /// </summary>
    Task<FetchResult> FetchAsync(long fromOffset, int maxMessages, TimeSpan maxWait);

    /// <summary>
    /// The cursor read to <paramref name="fromOffset"/> and found nothing more that expires or is delayed: the partition
    /// wakes it again when such a message is appended (<see cref="IPartitionGrain.WatchStoppedAsync"/>).
    /// </summary>
    Task WatchStoppedAsync(long fromOffset);
}
