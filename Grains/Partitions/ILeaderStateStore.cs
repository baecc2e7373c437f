namespace Granary.Grains.Partitions;

/// <summary>
/// Where a replicated partition keeps its <see cref="PartitionLeaderState"/> (in the grain, its persistent state): the
/// one piece of Orleans <see cref="PartitionLeadership"/> needs, narrowed so its rules run without a cluster.
/// </summary>
internal interface ILeaderStateStore
{
    /// <summary>The state as last read or written (a new instance after <see cref="ClearAsync"/>).</summary>
    PartitionLeaderState State { get; }

    /// <summary>Stores <see cref="State"/>; fails when another activation wrote it since it was read.</summary>
    Task WriteAsync();

    /// <summary>Removes the stored state (the topic was deleted).</summary>
    Task ClearAsync();
}
