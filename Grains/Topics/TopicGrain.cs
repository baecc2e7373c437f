namespace Granary.Grains.Topics;

/// <summary>Persisted topic settings and groups.</summary>
[GenerateSerializer, Alias("granary.TopicState")]
internal sealed class TopicState : Hosting.StateFiles.IExactState
{
    [Id(0)] public bool Exists { get; set; }
    [Id(1)] public TopicConfig Config { get; set; } = new();
    [Id(2)] public DateTimeOffset CreatedAt { get; set; }
    [Id(3)] public SortedSet<string> Groups { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>A topic's settings and groups; creates and deletes the topic.</summary>
[GrainType("granary.topic")]
internal sealed class TopicGrain(
    [PersistentState("topic", "granary")] IPersistentState<TopicState> state,
    Microsoft.Extensions.Options.IOptions<Hosting.GranaryOptions> options, Replication.ClusterNodes nodes, TimeProvider time, IServiceProvider services) : Grain, ITopicGrain
{
    private string Name => this.GetPrimaryKeyString();

    public async Task CreateAsync(TopicConfig config)
    {
        Names.Validate(Name, "topic");
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        if (state.State.Exists) throw new GranaryException(GranaryErrorCode.TopicAlreadyExists, $"Topic '{Name}' exists already.");
        int replicas = config.ReplicationFactor ?? Math.Max(1, Math.Min(DefaultReplicationFactor, nodes.Active().Count));
        // A new identity every time: nothing stored under this name before (a lost or deleted topic) is ever adopted.
        config = config with
        {
            ReplicationFactor = replicas,
            MinInSyncReplicas = config.MinInSyncReplicas ?? Math.Min(replicas, 2),
            Incarnation = Partitions.PartitionPaths.NewIncarnation(),
        };
        config.Validate();
        await PartitionLimits.EnsureRoomAsync(Name, current: null, config);
        state.State = new TopicState { Exists = true, Config = config, CreatedAt = time.GetUtcNow() };
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<ITopicRegistryGrain>(ITopicRegistryGrain.Key).AddAsync(Name);
    }

    public Task<TopicConfig> GetConfigAsync() => Task.FromResult(EnsureExists().Config);

    public async Task<TopicDescription> DescribeAsync(bool withPartitions)
    {
        var topic = EnsureExists();
        PartitionInfo[] partitions = withPartitions
            ? await Task.WhenAll(Enumerable.Range(0, topic.Config.Partitions).Select(p => GrainFactory.GetGrain<IPartitionGrain>(GrainKeys.Partition(Name, p)).DescribeAsync()))
            : [];
        return new TopicDescription(Name, topic.Config, topic.CreatedAt, [.. topic.Groups], partitions);
    }

    public async Task DeleteAsync()
    {
        var topic = EnsureExists();
        // Mark deleted first: from here on producers and consumers get TopicNotFound, then the data goes.
        state.State = new TopicState();
        await state.WriteStateAsync();
        await Task.WhenAll(Enumerable.Range(0, topic.Config.Partitions).Select(p => GrainFactory.GetGrain<IPartitionGrain>(GrainKeys.Partition(Name, p)).DeleteAsync(topic.Config.Incarnation)));
        await Task.WhenAll(topic.Groups.Select(g => GrainFactory.GetGrain<IConsumerGroupGrain>(GrainKeys.Group(Name, g)).DeleteAsync()));
        await GrainFactory.GetGrain<ITopicRegistryGrain>(ITopicRegistryGrain.Key).RemoveAsync(Name);
    }

    public Task<string[]> GetGroupsAsync() => Task.FromResult(EnsureExists().Groups.ToArray());

    public async Task AddPartitionsAsync(int partitions)
    {
        var topic = EnsureExists();
        if (partitions <= topic.Config.Partitions)
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"Topic '{Name}' has {topic.Config.Partitions} partitions already; ask for more to add some.");
        var config = topic.Config with { Partitions = partitions };
        config.Validate();
        await PartitionLimits.EnsureRoomAsync(Name, topic.Config, config);
        topic.Config = config;
        await state.WriteStateAsync();
    }

    public async Task<TopicConfig?> AlterAsync(TopicConfig expected, TopicConfig config)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(config);
        var topic = EnsureExists();
        var current = topic.Config;
        // The incarnation is the topic's identity, not a setting: callers need not echo it, and cannot change it.
        expected = expected with { Incarnation = current.Incarnation };
        config = config with { Incarnation = current.Incarnation };
        // The caller derived config from expected: applied over anything newer, it would undo that change.
        if (expected != current && config != current) return null;
        if (config.Partitions < current.Partitions)
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"Topic '{Name}' has {current.Partitions} partitions; partitions can be added, not removed.");
        // These shape data already stored or the replica set; changing them would need a migration, not a setting.
        string? fixedSetting =
            config.ReplicationFactor != current.ReplicationFactor ? nameof(TopicConfig.ReplicationFactor)
            : config.MinInSyncReplicas != current.MinInSyncReplicas ? nameof(TopicConfig.MinInSyncReplicas)
            : config.DedupWindow != current.DedupWindow ? nameof(TopicConfig.DedupWindow)
            : config.Overflow != current.Overflow ? nameof(TopicConfig.Overflow)
            : config.ExpiredMessages != current.ExpiredMessages ? nameof(TopicConfig.ExpiredMessages)
            : null;
        if (fixedSetting is not null)
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"{fixedSetting} of topic '{Name}' is fixed at creation and can't be altered.");
        config.Validate();
        if (config.Partitions > current.Partitions) await PartitionLimits.EnsureRoomAsync(Name, current, config);
        if (config != current)
        {
            topic.Config = config;
            try
            {
                await state.WriteStateAsync();
            }
            catch
            {
                topic.Config = current; // not stored: the settings in force stay the old ones
                throw;
            }
        }
        // New partitions read the new settings when they open; open ones are told (again, after a failed attempt).
        await Task.WhenAll(Enumerable.Range(0, current.Partitions).Select(p => GrainFactory.GetGrain<IPartitionGrain>(GrainKeys.Partition(Name, p)).ApplyConfigAsync(config)));
        return config;
    }

    public async Task RegisterGroupAsync(string group)
    {
        var topic = EnsureExists();
        if (topic.Groups.Add(group)) await state.WriteStateAsync();
    }

    private PartitionLimits PartitionLimits => new(options.Value, nodes, GrainFactory);

    private int DefaultReplicationFactor =>
        options.Value.DefaultReplicationFactor ?? (services.GetService(typeof(Hosting.ClusterMode)) is null ? 1 : 3);

    private TopicState EnsureExists() =>
        state.State.Exists ? state.State : throw new GranaryException(GranaryErrorCode.TopicNotFound, $"Topic '{Name}' does not exist.");
}
