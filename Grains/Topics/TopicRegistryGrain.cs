using Granary.Grains.Hosting;
using Granary.Grains.Hosting.StateFiles;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Granary.Grains.Topics;

/// <summary>Persisted set of topic names.</summary>
[GenerateSerializer, Alias("granary.TopicRegistryState")]
internal sealed class TopicRegistryState : IRecoverableState
{
    [Id(0)] public SortedSet<string> Topics { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Set by the storage (never stored) when the registry's file was damaged with no good copy: it is rebuilt.</summary>
    public StateFileDamage? Damage { get => _damage; set => _damage = value; }

    [NonSerialized] private StateFileDamage? _damage;
}

/// <summary>The list of topics (off the hot path: only create, delete and list touch it).</summary>
[GrainType("granary.topics")]
internal sealed class TopicRegistryGrain(
    [PersistentState("topics", "granary")] IPersistentState<TopicRegistryState> state,
    StateDamageLog damageLog, IServiceProvider services) : Grain, ITopicRegistryGrain
{
    private const string TopicStateName = "topic";

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Damage is { } damage) await RebuildAsync(damage);
    }

    public async Task AddAsync(string topic)
    {
        if (state.State.Topics.Add(topic)) await state.WriteStateAsync();
    }

    public async Task RemoveAsync(string topic)
    {
        if (state.State.Topics.Remove(topic)) await state.WriteStateAsync();
    }

    public Task<string[]> ListAsync() => Task.FromResult(state.State.Topics.ToArray());

    /// <summary>
    /// The registry's file was damaged with no good copy: it is an index of the topics' own state files, so it is rebuilt
    /// from them (every topic whose state says it exists, and every topic whose state is itself damaged, so that it is
    /// listed and answers <c>CorruptData</c> rather than vanish) when a good copy of its file names it. Topic state files
    /// that name no topic (the earlier unframed format, or damaged with no good copy) are counted in the report; such a
    /// topic is missing from the list, while its own calls still answer (or say <c>CorruptData</c>), and it is listed
    /// again once deleted and created again.
    /// </summary>
    private async Task RebuildAsync(StateFileDamage damage)
    {
        var topics = new SortedSet<string>(StringComparer.Ordinal);
        int unattributed = 0;
        if (services.GetKeyedService<IGrainStorage>(Hosting.SiloBuilderExtensions.StorageName) is FileGrainStorage files)
        {
            var topicType = GrainType.Create("granary.topic");
            foreach (var topicId in files.ListStoredGrains(TopicStateName, topicType, out unattributed))
            {
                var topicState = new GrainState<TopicState>();
                try
                {
                    await files.ReadStateAsync(TopicStateName, topicId, topicState);
                    if (topicState.State is not { Exists: true }) continue;
                }
                catch (GranaryException e) when (e.Code == ErrorCode.CorruptData)
                {
                    // listed, so that operators see it and its calls say what is wrong
                }
                topics.Add(topicId.Key.ToString() ?? "");
            }
        }
        state.State = new TopicRegistryState { Topics = topics };
        await state.WriteStateAsync();
        string detail = $"rebuilt from the topics' state files with {topics.Count} topics";
        if (unattributed > 0) detail += $"; {unattributed} topic state files name no topic (earlier format, or damaged) and are not listed";
        damageLog.Report("topics", damage.File, damage.Problem, StateDamageAction.Rebuilt, detail);
    }
}
