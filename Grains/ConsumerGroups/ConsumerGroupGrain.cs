using Granary.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Grains.ConsumerGroups;

/// <summary>Persisted group settings: where it started, and how it delivers.</summary>
[GenerateSerializer, Alias("granary.ConsumerGroupState")]
internal sealed class ConsumerGroupState
{
    [Id(0)] public bool Exists { get; set; }
    // Id 1 held the start position before it moved into Settings; not to be reused.
    [Id(2)] public Dictionary<int, long> StartOffsets { get; set; } = [];
    [Id(3)] public int Partitions { get; set; }
    [Id(4)] public GroupSettings Settings { get; set; } = new();
    /// <summary>The topic incarnation the group was created on (<see cref="TopicConfig.Incarnation"/>); null before incarnations existed.</summary>
    [Id(5)] public string? Incarnation { get; set; }
}

/// <summary>
/// Members of one group on one topic, with heartbeats. Creating a group fixes its start: the earliest retained
/// message, or the end of every partition at that moment (partitions added later start at their beginning). Under
/// <see cref="DeliveryMode.Ordered"/> it assigns each partition to one member and rebalances when members come and
/// go. Members live in memory only: after a restart they join again with their next heartbeat.
/// </summary>
[GrainType("granary.group")]
internal sealed partial class ConsumerGroupGrain(
    [PersistentState("group", "granary")] IPersistentState<ConsumerGroupState> state,
    IOptions<GranaryOptions> options,
    TimeProvider time,
    ILogger<ConsumerGroupGrain> logger) : Grain, IConsumerGroupGrain
{
    private readonly MemberSessions _members = new(time, options.Value.SessionTimeout);
    private Dictionary<int, string> _assignment = [];
    // A cursor missed a push (release or new owner): the session timer pushes every cursor's setup again.
    private bool _needsResync;
    private IGrainTimer? _sessionTimer;
    private string _topic = "", _group = "";

    private ITopicGrain TopicGrain => GrainFactory.GetGrain<ITopicGrain>(_topic);

    private IPartitionCursorGrain Cursor(int partition) => GrainFactory.GetGrain<IPartitionCursorGrain>(GrainKeys.Cursor(_topic, _group, partition));

    private IPartitionGrain PartitionGrain(int partition) => GrainFactory.GetGrain<IPartitionGrain>(GrainKeys.Partition(_topic, partition));

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_topic, _group) = GrainKeys.ParseGroup(this.GetPrimaryKeyString());
        if (!state.State.Exists) return;
        string? incarnation;
        try
        {
            incarnation = (await TopicGrain.GetConfigAsync()).Incarnation;
        }
        catch (GranaryException e) when (e.Code == GranaryErrorCode.TopicNotFound)
        {
            return; // every call needs the topic and fails the same way
        }
        // A group of an earlier topic of this name (whose state was lost or whose delete did not finish) is not this
        // topic's: it starts over as if it never existed, rather than replay its old start offsets and settings.
        if (state.State.Incarnation != incarnation)
        {
            LogEarlierIncarnation(logger, _topic, _group);
            await state.ClearStateAsync(cancellationToken);
        }
    }

    public async Task<GroupJoinResult> JoinAsync(string memberId, GroupSettings settings)
    {
        Names.Validate(_group, "group");
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        Names.Validate(settings.DeadLetterTopicOf(_topic, _group), "dead-letter topic");
        var config = await TopicGrain.GetConfigAsync(); // TopicNotFound for unknown or deleted topics
        bool settingsChanged;
        if (!state.State.Exists)
        {
            await CreateAsync(settings, config);
            settingsChanged = true;
        }
        else
        {
            var current = state.State.Settings;
            if (settings.Mode != current.Mode && _members.Members.Any(m => m != memberId))
                throw new GranaryException(GranaryErrorCode.InvalidArgument,
                    $"Group '{_group}' of topic '{_topic}' delivers in {current.Mode} mode and has members connected; it cannot switch to {settings.Mode}.");
            var updated = settings with { StartPosition = current.StartPosition };
            settingsChanged = updated != current;
            if (settingsChanged)
            {
                state.State.Settings = updated;
                await WriteStateAsync();
            }
            settingsChanged |= await GrowAsync(config.Partitions);
        }
        _members.Join(memberId);
        _sessionTimer ??= this.RegisterGrainTimer(ExpireMembersAsync, new GrainTimerCreationOptions
        {
            DueTime = options.Value.SessionTimeout / 3,
            Period = options.Value.SessionTimeout / 3,
            KeepAlive = true,
        });
        await RebalanceAsync(pushAll: settingsChanged);
        return new GroupJoinResult(state.State.Partitions);
    }

    private async Task CreateAsync(GroupSettings settings, TopicConfig config)
    {
        int partitions = config.Partitions;
        var created = new ConsumerGroupState { Exists = true, Partitions = partitions, Settings = settings, Incarnation = config.Incarnation };
        if (settings.StartPosition == StartPosition.Latest)
        {
            var ends = await Task.WhenAll(Enumerable.Range(0, partitions).Select(p => PartitionGrain(p).DescribeAsync()));
            foreach (var end in ends) created.StartOffsets[end.Partition] = end.EndOffset;
        }
        state.State = created;
        await WriteStateAsync();
        try
        {
            await TopicGrain.RegisterGroupAsync(_group);
        }
        catch (Exception e) when (DiskFullErrors.IsDiskFull(e))
        {
            throw DiskFullErrors.StateWriteFailed($"topic '{_topic}'");
        }
    }

    /// <summary>
    /// Stores the group's state. A failed write leaves the state in memory ahead of the stored one, so the activation
    /// goes away and the next call starts from what is stored; a full disk is answered as <see cref="GranaryErrorCode.DiskFull"/>.
    /// </summary>
    private async Task WriteStateAsync()
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception e) when (e is not GranaryException)
        {
            DeactivateOnIdle();
            if (DiskFullErrors.IsDiskFull(e)) throw DiskFullErrors.StateWriteFailed($"group '{_group}' of topic '{_topic}'");
            throw;
        }
    }

    /// <summary>
    /// Takes in partitions added to the topic: they start at their beginning, whatever the group's start position,
    /// and (Ordered) get owners at once.
    /// </summary>
    private async Task<bool> GrowAsync(int partitions)
    {
        if (partitions <= state.State.Partitions) return false;
        for (int p = state.State.Partitions; p < partitions; p++) state.State.StartOffsets[p] = 0;
        state.State.Partitions = partitions;
        await WriteStateAsync();
        await RebalanceAsync(pushAll: false);
        return true;
    }

    public async Task<HeartbeatResult> HeartbeatAsync(string memberId)
    {
        if (!_members.TryRenew(memberId)) return new HeartbeatResult(false, state.State.Partitions);
        var config = await TopicGrain.GetConfigAsync();
        await GrowAsync(config.Partitions);
        return new HeartbeatResult(true, state.State.Partitions);
    }

    public async Task LeaveAsync(string memberId)
    {
        if (!_members.Remove(memberId)) return;
        try
        {
            await Task.WhenAll(Enumerable.Range(0, state.State.Partitions).Select(p => Cursor(p).ReleaseMemberAsync(memberId)));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Its leases end by themselves (ack timeout); the new owners must still be told.
            LogPushFailed(logger, e, _topic, _group);
        }
        await RebalanceAsync(pushAll: false);
    }

    public Task<CursorSetup> GetCursorSetupAsync(int partition) => Task.FromResult(SetupOf(partition));

    private CursorSetup SetupOf(int partition) => new(
        state.State.StartOffsets.TryGetValue(partition, out long offset) ? offset : null,
        state.State.Settings,
        _assignment.GetValueOrDefault(partition));

    /// <summary>
    /// Ordered: a sticky assignment (<see cref="OrderedAssignment"/>). Cursors whose owner changed (or all, when the
    /// settings changed) are told; one that misses it is told again by the session timer.
    /// </summary>
    private async Task RebalanceAsync(bool pushAll)
    {
        var assignment = state.State.Settings.Mode == DeliveryMode.Ordered
            ? OrderedAssignment.Assign(_assignment, [.. _members.Members], state.State.Partitions)
            : [];
        var previous = _assignment;
        _assignment = assignment;
        var changed = Enumerable.Range(0, state.State.Partitions)
            .Where(p => pushAll || _needsResync || previous.GetValueOrDefault(p) != assignment.GetValueOrDefault(p)).ToList();
        _needsResync = false;
        try
        {
            await Task.WhenAll(changed.Select(p => Cursor(p).ConfigureAsync(SetupOf(p))));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _needsResync = true;
            LogPushFailed(logger, e, _topic, _group);
        }
        if (_members.Count == 0 && !_needsResync)
        {
            _sessionTimer?.Dispose();
            _sessionTimer = null;
        }
    }

    public async Task SeekAsync(SeekTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        EnsureExists();
        var config = await TopicGrain.GetConfigAsync();
        await GrowAsync(config.Partitions);
        if (target.Kind == SeekKind.Offset && target.Value < 0)
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"Offset {target.Value} is negative.");
        if (target.Partition is { } only && (only < 0 || only >= config.Partitions))
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"Topic '{_topic}' has no partition {only}.");
        var partitions = target.Partition is { } one ? [one] : Enumerable.Range(0, config.Partitions);
        await Task.WhenAll(partitions.Select(async p =>
        {
            var info = await PartitionGrain(p).DescribeAsync();
            long offset = target.Kind switch
            {
                SeekKind.Earliest => info.StartOffset,
                SeekKind.Latest => info.EndOffset,
                SeekKind.Offset => Math.Clamp(target.Value, info.StartOffset, info.EndOffset),
                SeekKind.Timestamp => await PartitionGrain(p).FindOffsetAsync(target.Value),
                _ => throw new GranaryException(GranaryErrorCode.InvalidArgument, $"Unknown seek kind {target.Kind}."),
            };
            await Cursor(p).SeekAsync(offset);
        }));
    }

    public async Task<GroupLag> GetLagAsync()
    {
        EnsureExists();
        await GrowAsync((await TopicGrain.GetConfigAsync()).Partitions);
        var lags = await Task.WhenAll(Enumerable.Range(0, state.State.Partitions).Select(async p =>
        {
            var cursor = await Cursor(p).DescribeAsync();
            var partition = await PartitionGrain(p).DescribeAsync();
            long lag = Math.Max(0, partition.EndOffset - cursor.CommittedOffset - cursor.AckedAbove);
            return new PartitionLag(p, partition.EndOffset, cursor.CommittedOffset, lag, cursor.InFlight,
                lag > 0 ? cursor.OldestUnackedTimestampMs : null, cursor.Expired, cursor.DeadLettered, cursor.Skipped);
        }));
        return new GroupLag(_topic, _group, lags);
    }

    public Task<GroupDescription> DescribeAsync()
    {
        EnsureExists();
        return Task.FromResult(new GroupDescription(_topic, _group, state.State.Settings, [.. _members.Members.Order(StringComparer.Ordinal)],
            new Dictionary<int, string>(_assignment)));
    }

    public async Task DeleteAsync()
    {
        int partitions = state.State.Partitions;
        await Task.WhenAll(Enumerable.Range(0, partitions).Select(p => Cursor(p).DeleteAsync()));
        await state.ClearStateAsync();
        _members.Clear();
        _assignment.Clear();
        this.DeactivateOnIdle();
    }

    private void EnsureExists()
    {
        if (!state.State.Exists)
            throw new GranaryException(GranaryErrorCode.GroupNotFound, $"Topic '{_topic}' has no consumer group '{_group}'; a consumer creates it by joining.");
    }

    private async Task ExpireMembersAsync()
    {
        foreach (string member in _members.Expired()) await LeaveAsync(member);
        if (_needsResync) await RebalanceAsync(pushAll: true);
    }

    [LoggerMessage(4002, LogLevel.Warning, "Group {Group} of topic {Topic} belonged to an earlier topic of that name; it starts over")]
    private static partial void LogEarlierIncarnation(ILogger logger, string topic, string group);

    [LoggerMessage(4001, LogLevel.Warning, "Group {Group} of topic {Topic} could not reach all its cursors; retrying with the session timer")]
    private static partial void LogPushFailed(ILogger logger, Exception exception, string topic, string group);
}
