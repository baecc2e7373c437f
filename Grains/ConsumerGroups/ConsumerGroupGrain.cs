using Granary.Grains.Hosting;
using Microsoft.Extensions.Options;

namespace Granary.Grains.ConsumerGroups;

/// <summary>Persisted group settings: where it started.</summary>
[GenerateSerializer, Alias("granary.ConsumerGroupState")]
internal sealed class ConsumerGroupState
{
    [Id(0)] public bool Exists { get; set; }
    [Id(1)] public StartPosition StartPosition { get; set; }
    [Id(2)] public Dictionary<int, long> StartOffsets { get; set; } = [];
    [Id(3)] public int Partitions { get; set; }
}

/// <summary>
/// Members of one group on one topic, with heartbeats. Creating a group fixes its start: the earliest retained
/// message, or the end of every partition at that moment. Members live in memory only: after a restart they
/// join again with their next heartbeat.
/// </summary>
[GrainType("granary.group")]
internal sealed class ConsumerGroupGrain(
    [PersistentState("group", "granary")] IPersistentState<ConsumerGroupState> state,
    IOptions<GranaryOptions> options) : Grain, IConsumerGroupGrain
{
    private readonly Dictionary<string, DateTime> _members = [];
    private IGrainTimer? _sessionTimer;
    private string _topic = "", _group = "";

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_topic, _group) = GrainKeys.ParseGroup(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public async Task<GroupJoinResult> JoinAsync(string memberId, StartPosition startPosition)
    {
        Names.Validate(_group, "group");
        var topic = GrainFactory.GetGrain<ITopicGrain>(_topic);
        var config = await topic.GetConfigAsync(); // TopicNotFound for unknown or deleted topics
        if (!state.State.Exists || state.State.Partitions != config.Partitions)
        {
            var created = new ConsumerGroupState { Exists = true, StartPosition = startPosition, Partitions = config.Partitions };
            if (startPosition == StartPosition.Latest)
            {
                var ends = await Task.WhenAll(Enumerable.Range(0, config.Partitions)
                    .Select(p => GrainFactory.GetGrain<IPartitionGrain>(GrainKeys.Partition(_topic, p)).DescribeAsync()));
                foreach (var end in ends) created.StartOffsets[end.Partition] = end.EndOffset;
            }
            state.State = created;
            await state.WriteStateAsync();
            await topic.RegisterGroupAsync(_group);
        }
        _members[memberId] = DateTime.UtcNow;
        _sessionTimer ??= this.RegisterGrainTimer(ExpireMembersAsync, new GrainTimerCreationOptions
        {
            DueTime = options.Value.SessionTimeout / 3,
            Period = options.Value.SessionTimeout / 3,
            KeepAlive = true,
        });
        return new GroupJoinResult(config.Partitions);
    }

    public Task<bool> HeartbeatAsync(string memberId)
    {
        if (!_members.ContainsKey(memberId)) return Task.FromResult(false);
        _members[memberId] = DateTime.UtcNow;
        return Task.FromResult(true);
    }

    public async Task LeaveAsync(string memberId)
    {
        if (!_members.Remove(memberId)) return;
        await ReleaseAsync(memberId);
        if (_members.Count == 0)
        {
            _sessionTimer?.Dispose();
            _sessionTimer = null;
        }
    }

    public Task<long?> GetStartOffsetAsync(int partition) =>
        Task.FromResult(state.State.StartOffsets.TryGetValue(partition, out long offset) ? offset : (long?)null);

    public async Task DeleteAsync()
    {
        int partitions = state.State.Partitions;
        await Task.WhenAll(Enumerable.Range(0, partitions).Select(p => GrainFactory.GetGrain<IPartitionCursorGrain>(GrainKeys.Cursor(_topic, _group, p)).DeleteAsync()));
        await state.ClearStateAsync();
        _members.Clear();
        this.DeactivateOnIdle();
    }

    private async Task ExpireMembersAsync()
    {
        var cutoff = DateTime.UtcNow - options.Value.SessionTimeout;
        foreach (var member in _members.Where(m => m.Value < cutoff).Select(m => m.Key).ToList()) await LeaveAsync(member);
    }

    private Task ReleaseAsync(string memberId) =>
        Task.WhenAll(Enumerable.Range(0, state.State.Partitions).Select(p =>
            GrainFactory.GetGrain<IPartitionCursorGrain>(GrainKeys.Cursor(_topic, _group, p)).ReleaseMemberAsync(memberId)));
}
