namespace Granary.Grains.Partitions;

/// <summary>A replicated partition's leader state, kept in grain storage (PostgreSQL in cluster mode).</summary>
[GenerateSerializer, Alias("granary.PartitionLeaderState")]
internal sealed class PartitionLeaderState
{
    /// <summary>Bumped by every activation of the leader; fences older leaders off the replicas.</summary>
    [Id(0)] public long Epoch { get; set; }

    /// <summary>Every node that may hold a copy of the log: consulted when a new leader reconciles.</summary>
    [Id(1)] public List<string> Holders { get; set; } = [];
}
