namespace Granary.Grains;

/// <summary>The list of topic names, so they can be listed. One instance, key <see cref="Key"/>; off the hot path.</summary>
[Alias("granary.ITopicRegistryGrain")]
public interface ITopicRegistryGrain : IGrainWithStringKey
{
    /// <summary>The only key.</summary>
    const string Key = "topics";

    /// <summary>Records a created topic.</summary>
    [Alias("Add")] Task AddAsync(string topic);

    /// <summary>Forgets a deleted topic.</summary>
    [Alias("Remove")] Task RemoveAsync(string topic);

    /// <summary>All topic names, sorted.</summary>
    [Alias("List")] Task<string[]> ListAsync();
}
