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
    StateDamageLog damageLog, Microsoft.Extensions.Options.IOptions<GranaryOptions> options, IServiceProvider services) : Grain, ITopicRegistryGrain
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
    /// listed and answers <c>CorruptData</c> rather than vanish) when a good copy of its file names it. State files of the
    /// earlier unframed format name no topic; those topics are found by their log directories instead, which the earlier
    /// layout named after the topic (<c>logs/{name}/</c>). What is still unattributed (damaged files with no good copy,
    /// earlier topics that never stored a message) is counted in the report; such a topic is missing from the list while
    /// its own calls still answer (or say <c>CorruptData</c>).
    /// </summary>
    private async Task RebuildAsync(StateFileDamage damage)
    {
        var topics = new SortedSet<string>(StringComparer.Ordinal);
        int unattributed = 0, fromLogDirectories = 0;
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
                catch (GranaryException e) when (e.Code == GranaryErrorCode.CorruptData)
                {
                    // listed, so that operators see it and its calls say what is wrong
                }
                topics.Add(topicId.Key.ToString() ?? "");
            }
            foreach (string name in LegacyLogDirectoryNames().Where(n => !topics.Contains(n)))
            {
                var topicState = new GrainState<TopicState>();
                try
                {
                    await files.ReadStateAsync(TopicStateName, GrainId.Create(topicType, name), topicState);
                    if (topicState.State is not { Exists: true }) continue;
                }
                catch (GranaryException e) when (e.Code == GranaryErrorCode.CorruptData)
                {
                    // listed, as above
                }
                if (topics.Add(name)) fromLogDirectories++;
            }
        }
        state.State = new TopicRegistryState { Topics = topics };
        await state.WriteStateAsync();
        string detail = $"rebuilt from the topics' state files with {topics.Count} topics";
        if (fromLogDirectories > 0) detail += $" ({fromLogDirectories} of them, of the earlier format, found by their log directories)";
        if (unattributed > 0) detail += $"; {unattributed} topic state files name no topic (earlier format, or damaged)";
        damageLog.Report("topics", damage.File, damage.Problem, StateDamageAction.Rebuilt, detail);
    }

    // Directories of the layout before incarnations: named exactly after their topic (the current layout's names hold an
    // '@', which no topic name has).
    private IEnumerable<string> LegacyLogDirectoryNames()
    {
        string logs = options.Value.LogsDirectory;
        if (!Directory.Exists(logs)) return [];
        return Directory.EnumerateDirectories(logs).Select(Path.GetFileName).OfType<string>().Where(Names.IsValid);
    }
}
