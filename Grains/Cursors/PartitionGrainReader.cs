namespace Granary.Grains.Cursors;

/// <summary>The <see cref="IPartitionReader"/> of one group's cursor: calls to its partition grain.</summary>
internal sealed class PartitionGrainReader(IPartitionGrain partition, string group) : IPartitionReader
{
    public Task<FetchResult> FetchAsync(long fromOffset, int maxMessages, TimeSpan maxWait) =>
        partition.FetchAsync(fromOffset, maxMessages, maxWait);

    public Task WatchStoppedAsync(long fromOffset) => partition.WatchStoppedAsync(group, fromOffset);
}
