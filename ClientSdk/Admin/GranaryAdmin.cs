using Granary.Grains;

namespace Granary.Client;

/// <summary>Creates, describes, lists and deletes topics.</summary>
public sealed class GranaryAdmin
{
    private readonly IClusterClient _cluster;

    internal GranaryAdmin(IClusterClient cluster) => _cluster = cluster;

    /// <summary>Creates a topic.</summary>
    /// <exception cref="GranaryException"><see cref="ErrorCode.InvalidName"/>, <see cref="ErrorCode.InvalidArgument"/>
    /// (e.g. zero partitions) or <see cref="ErrorCode.TopicAlreadyExists"/>.</exception>
    public Task CreateTopicAsync(string name, TopicOptions? options = null)
    {
        Names.Validate(name, "topic");
        var config = (options ?? new TopicOptions()).ToConfig();
        config.Validate();
        return GranaryClient.CallAsync(() => _cluster.GetGrain<ITopicGrain>(name).CreateAsync(config));
    }

    /// <summary>The silos of the cluster that are active now (their addresses), e.g. to wait until all have joined.</summary>
    public async Task<string[]> GetActiveSilosAsync()
    {
        var hosts = await GranaryClient.CallAsync(() => _cluster.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).ConfigureAwait(false);
        return [.. hosts.Keys.Select(s => s.ToString()).Order(StringComparer.Ordinal)];
    }

    /// <summary>Settings, groups and each partition's offsets and silo.</summary>
    /// <exception cref="GranaryException"><see cref="ErrorCode.TopicNotFound"/>.</exception>
    public Task<TopicDescription> DescribeTopicAsync(string name)
    {
        Names.Validate(name, "topic");
        return GranaryClient.CallAsync(() => _cluster.GetGrain<ITopicGrain>(name).DescribeAsync(withPartitions: true));
    }

    /// <summary>All topic names, sorted.</summary>
    public Task<string[]> ListTopicsAsync() =>
        GranaryClient.CallAsync(() => _cluster.GetGrain<ITopicRegistryGrain>(ITopicRegistryGrain.Key).ListAsync());

    /// <summary>Deletes a topic with its messages and consumer groups.</summary>
    /// <exception cref="GranaryException"><see cref="ErrorCode.TopicNotFound"/>.</exception>
    public Task DeleteTopicAsync(string name)
    {
        Names.Validate(name, "topic");
        return GranaryClient.CallAsync(() => _cluster.GetGrain<ITopicGrain>(name).DeleteAsync());
    }

    /// <summary>
    /// Raises a topic's partition count to <paramref name="partitions"/>. Running producers and consumers pick the new
    /// partitions up within a few seconds; keys hash by the new count from then on (per-key order holds within each
    /// partition, not across the change).
    /// </summary>
    /// <exception cref="GranaryException"><see cref="ErrorCode.TopicNotFound"/>, or <see cref="ErrorCode.InvalidArgument"/> when the count is not larger.</exception>
    public Task AddPartitionsAsync(string topic, int partitions)
    {
        Names.Validate(topic, "topic");
        return GranaryClient.CallAsync(() => _cluster.GetGrain<ITopicGrain>(topic).AddPartitionsAsync(partitions));
    }

    /// <summary>
    /// Moves a consumer group to <paramref name="target"/>: replay from the earliest message or a time, skip the backlog
    /// (latest), or go to an offset. Messages in flight are dropped; their acks may still count.
    /// </summary>
    /// <exception cref="GranaryException"><see cref="ErrorCode.TopicNotFound"/>, or <see cref="ErrorCode.InvalidArgument"/> for an unknown group, partition or a negative offset.</exception>
    public Task SeekAsync(string topic, string group, SeekTarget target)
    {
        Names.Validate(topic, "topic");
        Names.Validate(group, "group");
        ArgumentNullException.ThrowIfNull(target);
        return GranaryClient.CallAsync(() => Group(topic, group).SeekAsync(target));
    }

    /// <summary>Lag per partition: unacknowledged messages, the age of the oldest, and the expired, dead-lettered and skipped counts.</summary>
    public Task<GroupLag> GetLagAsync(string topic, string group)
    {
        Names.Validate(topic, "topic");
        Names.Validate(group, "group");
        return GranaryClient.CallAsync(() => Group(topic, group).GetLagAsync());
    }

    /// <summary>A group's settings, members and (Ordered) partition assignment.</summary>
    public Task<GroupDescription> DescribeGroupAsync(string topic, string group)
    {
        Names.Validate(topic, "topic");
        Names.Validate(group, "group");
        return GranaryClient.CallAsync(() => Group(topic, group).DescribeAsync());
    }

    /// <summary>
    /// Re-publishes the group's dead letters with offsets in [<paramref name="fromOffset"/>, <paramref name="toOffset"/>)
    /// (default: all) to their source partitions, delivered to this group only; returns how many. The dead letters
    /// stay in the dead-letter topic (its retention removes them).
    /// </summary>
    public Task<int> RedriveAsync(string topic, string group, long fromOffset = 0, long toOffset = long.MaxValue)
    {
        Names.Validate(topic, "topic");
        Names.Validate(group, "group");
        return GranaryClient.CallAsync(() => Group(topic, group).RedriveAsync(fromOffset, toOffset));
    }

    private IConsumerGroupGrain Group(string topic, string group) => _cluster.GetGrain<IConsumerGroupGrain>($"{topic}/{group}");
}
