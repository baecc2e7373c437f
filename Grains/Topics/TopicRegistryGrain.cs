namespace Granary.Grains.Topics;

/// <summary>Persisted set of topic names.</summary>
[GenerateSerializer, Alias("granary.TopicRegistryState")]
internal sealed class TopicRegistryState
{
    [Id(0)] public SortedSet<string> Topics { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The list of topics (off the hot path: only create, delete and list touch it).</summary>
[GrainType("granary.topics")]
internal sealed class TopicRegistryGrain(
    [PersistentState("topics", "granary")] IPersistentState<TopicRegistryState> state) : Grain, ITopicRegistryGrain
{
    public async Task AddAsync(string topic)
    {
        if (state.State.Topics.Add(topic)) await state.WriteStateAsync();
    }

    public async Task RemoveAsync(string topic)
    {
        if (state.State.Topics.Remove(topic)) await state.WriteStateAsync();
    }

    public Task<string[]> ListAsync() => Task.FromResult(state.State.Topics.ToArray());
}
