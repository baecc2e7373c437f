namespace Granary.Grains.Partitions;

/// <summary>The partition grain's persistent state as the <see cref="ILeaderStateStore"/> of its leadership.</summary>
internal sealed class PersistentLeaderStateStore(IPersistentState<PartitionLeaderState> state) : ILeaderStateStore
{
    /// <inheritdoc/>
    public PartitionLeaderState State => state.State;

    /// <inheritdoc/>
    public Task WriteAsync() => state.WriteStateAsync();

    /// <inheritdoc/>
    public Task ClearAsync() => state.ClearStateAsync();
}
