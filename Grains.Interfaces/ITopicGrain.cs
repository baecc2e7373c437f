using Orleans.Concurrency;

namespace Granary.Grains;

/// <summary>A topic: its persisted settings and its consumer groups. Key: the topic name.</summary>
[Alias("granary.ITopicGrain")]
public interface ITopicGrain : IGrainWithStringKey
{
    /// <summary>Creates the topic.</summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidName"/>, <see cref="GranaryErrorCode.InvalidArgument"/> or <see cref="GranaryErrorCode.TopicAlreadyExists"/>.</exception>
    [Alias("Create")] Task CreateAsync(TopicConfig config);

    /// <summary>
    /// The settings, or <see cref="GranaryErrorCode.TopicNotFound"/>. Always interleaves: partitions call it while the topic
    /// may be waiting on them (describe, delete), which would otherwise deadlock until the call times out.
    /// </summary>
    [Alias("GetConfig"), AlwaysInterleave] Task<TopicConfig> GetConfigAsync();

    /// <summary>Settings, groups and, when <paramref name="withPartitions"/>, each partition's offsets and silo.</summary>
    [Alias("Describe")] Task<TopicDescription> DescribeAsync(bool withPartitions);

    /// <summary>Deletes the topic: its partition logs, groups and their cursors.</summary>
    [Alias("Delete")] Task DeleteAsync();

    /// <summary>The consumer groups reading the topic. Always interleaves, like <see cref="GetConfigAsync"/>.</summary>
    [Alias("GetGroups"), AlwaysInterleave] Task<string[]> GetGroupsAsync();

    /// <summary>
    /// Raises the partition count to <paramref name="partitions"/>. Producers and consumers pick the new partitions up
    /// without restarting; keys hash to partitions by the new count from then on.
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidArgument"/> when the count is not larger or above the limit.</exception>
    [Alias("AddPartitions")] Task AddPartitionsAsync(int partitions);

    /// <summary>
    /// Changes the settings from <paramref name="expected"/> to <paramref name="config"/>: the retention time and size,
    /// the largest message, the default time to live, and a larger partition count. Open partitions (and their
    /// replicas) apply the change at once; they are told again when the settings are already <paramref name="config"/>,
    /// so a retry after a partly applied change completes it.
    /// </summary>
    /// <returns>The settings in force, or null (nothing changed) when they are no longer <paramref name="expected"/>: another
    /// change came first, and the caller should read them again and reapply its change, so that neither is lost.</returns>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidArgument"/> for a value out of range, fewer partitions, or a
    /// change to a setting fixed at creation (replication, dedup window, overflow and expiry policies).</exception>
    [Alias("AlterIfUnchanged")] Task<TopicConfig?> AlterAsync(TopicConfig expected, TopicConfig config);

    /// <summary>Records a consumer group reading the topic.</summary>
    [Alias("RegisterGroup")] Task RegisterGroupAsync(string group);
}
