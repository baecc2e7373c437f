using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace Granary.Grains.Replication;

/// <summary>Places a partition replica on the silo its key names (<c>{topic}/{partition}/{node}</c>).</summary>
[GenerateSerializer, Alias("granary.ReplicaPlacement")]
public sealed class ReplicaPlacement : PlacementStrategy;

/// <summary>Marks replica grains for <see cref="ReplicaPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ReplicaPlacementAttribute() : PlacementAttribute(new ReplicaPlacement());

/// <summary>Chooses the silo for <see cref="ReplicaPlacement"/>; fails when that node is not active.</summary>
internal sealed class ReplicaPlacementDirector(ClusterNodes nodes) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        string node = ReplicaKeys.Parse(target.GrainIdentity.Key.ToString()!).Node;
        if (nodes.Active().TryGetValue(node, out var silo) && context.GetCompatibleSilos(target).Contains(silo)) return Task.FromResult(silo);
        throw new GranaryException(GranaryErrorCode.PartitionUnavailable, $"Node '{node}' is not an active silo of the cluster.");
    }
}

/// <summary>Keys of replica grains.</summary>
internal static class ReplicaKeys
{
    public static string Of(string topic, int partition, string node) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{topic}/{partition}/{node}");

    public static (string Topic, int Partition, string Node) Parse(string key)
    {
        var parts = key.Split('/');
        return (parts[0], int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), parts[2]);
    }
}
