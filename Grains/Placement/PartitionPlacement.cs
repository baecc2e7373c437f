using System.IO.Hashing;
using System.Text;
using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace Granary.Grains.Placement;

/// <summary>
/// Spreads the partitions of a topic over the silos in turn (partition p of topic t goes to silo
/// <c>(hash(t) + p) mod n</c> of the sorted active silos), and places a cursor on its partition's silo so fetches
/// stay local. Deterministic, so every silo makes the same choice.
/// </summary>
[GenerateSerializer, Alias("granary.PartitionPlacement")]
public sealed class PartitionPlacement : PlacementStrategy;

/// <summary>Marks partition and cursor grains for <see cref="PartitionPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class PartitionPlacementAttribute() : PlacementAttribute(new PartitionPlacement());

/// <summary>Chooses the silo for <see cref="PartitionPlacement"/>.</summary>
internal sealed class PartitionPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = context.GetCompatibleSilos(target);
        if (silos.Length == 0) throw new OrleansException("No compatible silo for a partition grain.");
        var (topic, partition) = GrainKeys.TopicAndPartition(target.GrainIdentity.Key.ToString()!);
        return Task.FromResult(Choose(topic, partition, silos));
    }

    /// <summary>The silo of <paramref name="silos"/> that partition <paramref name="partition"/> of <paramref name="topic"/> belongs on.</summary>
    public static SiloAddress Choose(string topic, int partition, IReadOnlyCollection<SiloAddress> silos)
    {
        var sorted = silos.OrderBy(s => s.ToParsableString(), StringComparer.Ordinal).ToArray();
        uint start = XxHash32.HashToUInt32(Encoding.UTF8.GetBytes(topic));
        return sorted[(int)((start + (uint)partition) % (uint)sorted.Length)];
    }
}
