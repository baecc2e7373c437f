using Granary.Grains.Hosting;
using Granary.Grains.Replication;

namespace Granary.Grains.Topics;

/// <summary>
/// The partition caps of <see cref="GranaryOptions"/>, checked before a topic is created or grows, so a request for
/// too many partitions is refused whole instead of half done (every partition log holds files and memory on a silo).
/// Per topic: <see cref="GranaryOptions.MaxPartitionsPerTopic"/>. Per silo: every partition copy of every topic
/// (partitions × replication factor) counted, at most <see cref="GranaryOptions.MaxPartitionsPerSilo"/> for each
/// active silo. The cluster-wide count reads every topic's settings, which only create and grow do. Two creates racing
/// can together pass the per-silo cap by one request; the cap is a guard against mistakes, not a quota.
/// </summary>
internal sealed class PartitionLimits(GranaryOptions options, ClusterNodes nodes, IGrainFactory grains)
{
    /// <summary>Throws <see cref="GranaryErrorCode.InvalidArgument"/> when <paramref name="config"/> would pass a cap.</summary>
    /// <param name="topic">The topic being created or grown (its own current partitions are not counted twice).</param>
    /// <param name="current">Its settings now; null when it is being created.</param>
    /// <param name="config">The settings asked for.</param>
    public async Task EnsureRoomAsync(string topic, TopicConfig? current, TopicConfig config)
    {
        if (config.Partitions > options.MaxPartitionsPerTopic)
            throw new GranaryException(GranaryErrorCode.InvalidArgument,
                $"Topic '{topic}' would have {config.Partitions} partitions; a topic may have at most {options.MaxPartitionsPerTopic} (Granary:MaxPartitionsPerTopic).");
        long added = (long)config.Partitions * config.Replicas - (current is null ? 0 : (long)current.Partitions * current.Replicas);
        if (added <= 0) return;
        int silos = Math.Max(1, nodes.Active().Count);
        long capacity = (long)options.MaxPartitionsPerSilo * silos;
        long existing = await CountOthersAsync(topic);
        long mine = current is null ? 0 : (long)current.Partitions * current.Replicas;
        if (existing + mine + added > capacity)
            throw new GranaryException(GranaryErrorCode.InvalidArgument,
                $"Topic '{topic}' would add {added} partition copies to the {existing + mine} the cluster has; {silos} silo(s) may hold {capacity} " +
                $"({options.MaxPartitionsPerSilo} each, Granary:MaxPartitionsPerSilo). Delete topics, add silos or raise the limit.");
    }

    // Partition copies of every other topic: its partitions times its replication factor.
    private async Task<long> CountOthersAsync(string topic)
    {
        var names = await grains.GetGrain<ITopicRegistryGrain>(ITopicRegistryGrain.Key).ListAsync();
        var counts = await Task.WhenAll(names.Where(n => n != topic).Select(async name =>
        {
            try
            {
                var other = await grains.GetGrain<ITopicGrain>(name).GetConfigAsync();
                return (long)other.Partitions * other.Replicas;
            }
            catch (GranaryException e) when (e.Code == GranaryErrorCode.TopicNotFound)
            {
                return 0L; // deleted meanwhile
            }
        }));
        return counts.Sum();
    }
}
