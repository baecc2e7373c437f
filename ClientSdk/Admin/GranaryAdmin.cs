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
        options ??= new TopicOptions();
        var config = new TopicConfig
        {
            Partitions = options.Partitions,
            MaxMessageBytes = options.MaxMessageBytes,
            RetentionTime = options.RetentionTime,
            RetentionBytes = options.RetentionBytes,
        };
        config.Validate();
        return GranaryClient.CallAsync(() => _cluster.GetGrain<ITopicGrain>(name).CreateAsync(config));
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
}
