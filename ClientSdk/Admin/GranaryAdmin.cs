using System.Text;
using Granary.Records;
using System.Globalization;
using Granary.Grains;

namespace Granary.Client;

/// <summary>Manages topics, consumer groups and their dead letters, and tells how the cluster stands.</summary>
/// <remarks>
/// Every method takes a <see cref="CancellationToken"/>: a cancelled one stops the waiting and throws
/// <see cref="OperationCanceledException"/>; a call already sent to the cluster may still take effect there (a topic
/// created, a group moved), as with any request whose answer nobody waits for.
/// </remarks>
public sealed class GranaryAdmin
{
    /// <summary>Alter attempts that may each find the settings changed by someone else before one gives up.</summary>
    private const int MaxAlterAttempts = 20;

    /// <summary>Rounds of create-then-read before create-if-missing gives up on a topic deleted under it each time.</summary>
    private const int MaxCreateIfMissingAttempts = 5;

    /// <summary>Dead letters one listing reads per partition at most, looking for a group's among other groups'.</summary>
    private const int MaxDeadLettersScanned = 10_000;

    /// <summary>Dead letters fetched per call while listing (the largest limit a listing takes).</summary>
    private const int DeadLetterScanPage = 1000;

    private readonly IClusterClient _cluster;

    internal GranaryAdmin(IClusterClient cluster) => _cluster = cluster;

    /// <summary>Creates a topic.</summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidName"/>, <see cref="GranaryErrorCode.InvalidArgument"/>
    /// (e.g. zero partitions) or <see cref="GranaryErrorCode.TopicAlreadyExists"/>.</exception>
    public Task CreateTopicAsync(string name, TopicOptions? options = null, CancellationToken cancellationToken = default)
    {
        Names.Validate(name, "topic");
        var config = (options ?? new TopicOptions()).ToConfig();
        config.Validate();
        return GranaryClient.CallAsync(() => _cluster.GetGrain<ITopicGrain>(name).CreateAsync(config), cancellationToken);
    }

    /// <summary>
    /// Creates a topic unless it exists already with the settings asked for: safe to run at every start of an
    /// application, and by many callers at once (all succeed, one creates). Only the settings set on
    /// <paramref name="options"/> are compared; those left unset are whatever the topic has. A topic whose settings were
    /// altered since its creation (more partitions, another retention) differs from the options that created it.
    /// </summary>
    /// <returns>True when this call created the topic; false when it existed with these settings.</returns>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.TopicAlreadyExists"/> when the topic exists with other
    /// settings (the message names each one, as it is and as asked), <see cref="GranaryErrorCode.InvalidName"/> or
    /// <see cref="GranaryErrorCode.InvalidArgument"/> as <see cref="CreateTopicAsync"/>.</exception>
    public async Task<bool> CreateTopicIfMissingAsync(string name, TopicOptions? options = null, CancellationToken cancellationToken = default)
    {
        var topic = _cluster.GetGrain<ITopicGrain>(name);
        // A topic deleted between the create and the read is created again; a topic created and deleted over and
        // over by someone else would keep this going, so it gives up after a few rounds.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await CreateTopicAsync(name, options, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (GranaryException e) when (e.Code == GranaryErrorCode.TopicAlreadyExists)
            {
            }
            TopicConfig existing;
            try
            {
                existing = await GranaryClient.CallAsync(() => topic.GetConfigAsync(), cancellationToken).ConfigureAwait(false);
            }
            catch (GranaryException e) when (e.Code == GranaryErrorCode.TopicNotFound && attempt < MaxCreateIfMissingAttempts)
            {
                continue;
            }
            var differences = options?.DifferencesFrom(existing) ?? [];
            if (differences.Count == 0) return false;
            throw new GranaryException(GranaryErrorCode.TopicAlreadyExists,
                $"Topic '{name}' exists with other settings: {string.Join("; ", differences)}.");
        }
    }

    /// <summary>The silos of the cluster that are active now (their addresses), e.g. to wait until all have joined.</summary>
    public async Task<string[]> GetActiveSilosAsync(CancellationToken cancellationToken = default)
    {
        var hosts = await GranaryClient.CallAsync(() => _cluster.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true), cancellationToken).ConfigureAwait(false);
        return [.. hosts.Keys.Select(s => s.ToString()).Order(StringComparer.Ordinal)];
    }

    /// <summary>Settings, groups and each partition's offsets and silo.</summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.TopicNotFound"/>.</exception>
    public Task<TopicDescription> DescribeTopicAsync(string name, CancellationToken cancellationToken = default)
    {
        Names.Validate(name, "topic");
        return GranaryClient.CallAsync(() => _cluster.GetGrain<ITopicGrain>(name).DescribeAsync(withPartitions: true), cancellationToken);
    }

    /// <summary>All topic names, sorted.</summary>
    public Task<string[]> ListTopicsAsync(CancellationToken cancellationToken = default) =>
        GranaryClient.CallAsync(() => _cluster.GetGrain<ITopicRegistryGrain>(ITopicRegistryGrain.Key).ListAsync(), cancellationToken);

    /// <summary>Deletes a topic with its messages and consumer groups.</summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.TopicNotFound"/>.</exception>
    public Task DeleteTopicAsync(string name, CancellationToken cancellationToken = default)
    {
        Names.Validate(name, "topic");
        return GranaryClient.CallAsync(() => _cluster.GetGrain<ITopicGrain>(name).DeleteAsync(), cancellationToken);
    }

    /// <summary>
    /// Raises a topic's partition count to <paramref name="partitions"/>. Running producers and consumers pick the new
    /// partitions up within a few seconds; keys hash by the new count from then on (per-key order holds within each
    /// partition, not across the change).
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.TopicNotFound"/>, or <see cref="GranaryErrorCode.InvalidArgument"/> when the count is not larger.</exception>
    public Task AddPartitionsAsync(string topic, int partitions, CancellationToken cancellationToken = default)
    {
        Names.Validate(topic, "topic");
        return GranaryClient.CallAsync(() => _cluster.GetGrain<ITopicGrain>(topic).AddPartitionsAsync(partitions), cancellationToken);
    }

    /// <summary>
    /// Changes a topic's settings to what <paramref name="change"/> makes of the current ones: retention time and size,
    /// largest message, default time to live, and a larger partition count. Open partitions apply it at once. If
    /// another change lands between reading the settings and writing them, <paramref name="change"/> is called again
    /// with the newer settings, so concurrent alters do not undo each other.
    /// </summary>
    /// <returns>The settings in force afterwards.</returns>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.TopicNotFound"/>, or <see cref="GranaryErrorCode.InvalidArgument"/> for a value out
    /// of range, fewer partitions, or a change to a setting fixed at creation (replication, dedup window, overflow and
    /// expiry policies), or <see cref="GranaryErrorCode.Timeout"/> when the settings kept changing under 20 attempts.</exception>
    public async Task<TopicConfig> AlterTopicAsync(string name, Func<TopicConfig, TopicConfig> change, CancellationToken cancellationToken = default)
    {
        Names.Validate(name, "topic");
        ArgumentNullException.ThrowIfNull(change);
        var topic = _cluster.GetGrain<ITopicGrain>(name);
        for (int attempt = 1; ; attempt++)
        {
            var current = await GranaryClient.CallAsync(() => topic.GetConfigAsync(), cancellationToken).ConfigureAwait(false);
            var changed = change(current) ?? throw new ArgumentException("The change returned no settings.", nameof(change));
            // Compare-and-set: a change another admin made meanwhile is read again and this one reapplied on top of it.
            if (await GranaryClient.CallAsync(() => topic.AlterAsync(current, changed), cancellationToken).ConfigureAwait(false) is { } applied) return applied;
            if (attempt == MaxAlterAttempts)
                throw new GranaryException(GranaryErrorCode.Timeout, $"The settings of topic '{name}' changed under each of {MaxAlterAttempts} attempts to alter them; try again.");
        }
    }

    /// <summary>The consumer groups that read a topic, sorted.</summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.TopicNotFound"/>.</exception>
    public async Task<string[]> ListGroupsAsync(string topic, CancellationToken cancellationToken = default)
    {
        Names.Validate(topic, "topic");
        var groups = await GranaryClient.CallAsync(() => _cluster.GetGrain<ITopicGrain>(topic).GetGroupsAsync(), cancellationToken).ConfigureAwait(false);
        return [.. groups.Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Moves a consumer group to <paramref name="target"/>: replay from the earliest message or a time, skip the backlog
    /// (latest), or go to an offset. Messages in flight are dropped; their acks may still count.
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.TopicNotFound"/>, <see cref="GranaryErrorCode.GroupNotFound"/>, or <see cref="GranaryErrorCode.InvalidArgument"/> for an unknown partition or a negative offset.</exception>
    public Task SeekAsync(string topic, string group, SeekTarget target, CancellationToken cancellationToken = default)
    {
        Names.Validate(topic, "topic");
        Names.Validate(group, "group");
        ArgumentNullException.ThrowIfNull(target);
        return GranaryClient.CallAsync(() => Group(topic, group).SeekAsync(target), cancellationToken);
    }

    /// <summary>Lag per partition: unacknowledged messages, the age of the oldest, and the expired, dead-lettered and skipped counts.</summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.TopicNotFound"/>, or <see cref="GranaryErrorCode.GroupNotFound"/> for a group the topic does not have.</exception>
    public Task<GroupLag> GetLagAsync(string topic, string group, CancellationToken cancellationToken = default)
    {
        Names.Validate(topic, "topic");
        Names.Validate(group, "group");
        return GranaryClient.CallAsync(() => Group(topic, group).GetLagAsync(), cancellationToken);
    }

    /// <summary>A group's settings, members and (Ordered) partition assignment.</summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.TopicNotFound"/>, or <see cref="GranaryErrorCode.GroupNotFound"/> for a group the topic does not have.</exception>
    public Task<GroupDescription> DescribeGroupAsync(string topic, string group, CancellationToken cancellationToken = default)
    {
        Names.Validate(topic, "topic");
        Names.Validate(group, "group");
        return GranaryClient.CallAsync(() => Group(topic, group).DescribeAsync(), cancellationToken);
    }

    /// <summary>
    /// Re-publishes the group's dead letters with offsets in [<paramref name="fromOffset"/>, <paramref name="toOffset"/>)
    /// (default: all) to their source partitions, delivered to this group only; returns how many. The dead letters
    /// stay in the dead-letter topic (its retention removes them).
    /// </summary>
    public Task<int> RedriveAsync(string topic, string group, long fromOffset = 0, long toOffset = long.MaxValue, CancellationToken cancellationToken = default)
    {
        Names.Validate(topic, "topic");
        Names.Validate(group, "group");
        return GranaryClient.CallAsync(() => Group(topic, group).RedriveAsync(fromOffset, toOffset), cancellationToken);
    }

    /// <summary>
    /// Up to <paramref name="limit"/> of the group's dead letters from offset <paramref name="fromOffset"/> of each
    /// partition of its dead-letter topic, oldest first per partition; empty when nothing was ever dead-lettered. A
    /// dead-letter topic shared by several groups shows only this group's letters: the listing reads past the other
    /// groups' letters, up to 10,000 of them per partition and call (page on from the last letter's offset + 1).
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.TopicNotFound"/>, <see cref="GranaryErrorCode.GroupNotFound"/>, or
    /// <see cref="GranaryErrorCode.InvalidArgument"/> for a negative offset or a limit outside 1-1000.</exception>
    public async Task<DeadLetter[]> ListDeadLettersAsync(string topic, string group, long fromOffset = 0, int limit = 100, CancellationToken cancellationToken = default)
    {
        if (fromOffset < 0) throw new GranaryException(GranaryErrorCode.InvalidArgument, $"The offset must not be negative; it is {fromOffset}.");
        if (limit is < 1 or > 1000) throw new GranaryException(GranaryErrorCode.InvalidArgument, $"The limit must be between 1 and 1000; it is {limit}.");
        var description = await DescribeGroupAsync(topic, group, cancellationToken).ConfigureAwait(false);
        string dlq = description.Settings.DeadLetterTopicOf(topic, group);
        TopicConfig dlqConfig;
        try
        {
            dlqConfig = await GranaryClient.CallAsync(() => _cluster.GetGrain<ITopicGrain>(dlq).GetConfigAsync(), cancellationToken).ConfigureAwait(false);
        }
        catch (GranaryException e) when (e.Code == GranaryErrorCode.TopicNotFound)
        {
            return []; // created with the first dead letter
        }
        var perPartition = await Task.WhenAll(Enumerable.Range(0, dlqConfig.Partitions)
            .Select(p => ScanDeadLettersAsync(dlq, p, topic, group, fromOffset, limit, cancellationToken))).ConfigureAwait(false);
        return [.. perPartition.SelectMany(letters => letters).Take(limit)];
    }

    /// <summary>The group's letters in one dead-letter partition from <paramref name="fromOffset"/>, skipping other groups' letters.</summary>
    private async Task<List<DeadLetter>> ScanDeadLettersAsync(string dlq, int partition, string topic, string group, long fromOffset, int limit, CancellationToken cancellationToken)
    {
        var grain = _cluster.GetGrain<IPartitionGrain>($"{dlq}/{partition}");
        var letters = new List<DeadLetter>();
        byte[] topicBytes = Encoding.UTF8.GetBytes(topic), groupBytes = Encoding.UTF8.GetBytes(group);
        long offset = fromOffset;
        for (int scanned = 0; letters.Count < limit && scanned < MaxDeadLettersScanned;)
        {
            long from = offset;
            // Whole pages, not just the letters still wanted: most of what is read may be other groups'.
            var page = await GranaryClient.CallAsync(() => grain.FetchAsync(from, DeadLetterScanPage, TimeSpan.Zero), cancellationToken).ConfigureAwait(false);
            if (page.IsEmpty) break; // the end of the partition
            // Views over the page's buffer, decoded lazily like consumed messages.
            foreach (var ranged in StoredBatches.Read(page.Batches, page.FromOffset, page.NextOffset))
            {
                if (HeaderIs(ranged.Record, SourceTopicName, topicBytes) && HeaderIs(ranged.Record, SourceGroupName, groupBytes))
                    letters.Add(ToDeadLetter(dlq, partition, ranged.Record));
                if (letters.Count == limit) break;
            }
            scanned += (int)(page.NextOffset - page.FromOffset);
            offset = page.NextOffset;
        }
        return letters;
    }

    /// <summary>Every silo the cluster's membership knows that is not dead, with its load.</summary>
    public async Task<SiloInfo[]> DescribeClusterAsync(CancellationToken cancellationToken = default)
    {
        var management = _cluster.GetGrain<IManagementGrain>(0);
        var hosts = await GranaryClient.CallAsync(() => management.GetDetailedHosts(onlyActive: false), cancellationToken).ConfigureAwait(false);
        var live = hosts.Where(h => h.Status != SiloStatus.Dead).OrderBy(h => h.SiloName, StringComparer.Ordinal).ToArray();
        var active = live.Where(h => h.Status == SiloStatus.Active).Select(h => h.SiloAddress).ToArray();
        SiloRuntimeStatistics[] stats;
        try
        {
            stats = active.Length == 0 ? [] : await management.GetRuntimeStatistics(active, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            stats = []; // a silo that just died fails the whole call; membership still says who is there
        }
        var bySilo = active.Zip(stats).ToDictionary(p => p.First, p => p.Second);
        return [.. live.Select(h =>
        {
            bySilo.TryGetValue(h.SiloAddress, out var s);
            return new SiloInfo(h.SiloAddress.ToString(), h.SiloName, h.HostName, h.Status.ToString(), h.StartTime, h.ProxyPort,
                s?.ActivationCount, s?.ClientCount, s?.EnvironmentStatistics.FilteredCpuUsagePercentage, s?.EnvironmentStatistics.FilteredMemoryUsageBytes, s?.IsOverloaded ?? false);
        })];
    }

    private static readonly byte[] SourceTopicName = StoredBatches.NameBytes(GranaryHeaders.SourceTopic);
    private static readonly byte[] SourceGroupName = StoredBatches.NameBytes(GranaryHeaders.SourceGroup);

    /// <summary>Whether the record's header <paramref name="name"/> is <paramref name="expected"/> in UTF-8, without decoding.</summary>
    private static bool HeaderIs(in StoredRecord record, byte[] name, byte[] expected) =>
        StoredBatches.TryGetHeader(record, name, out var value) && value.SequenceEqual(expected);

    private static DeadLetter ToDeadLetter(string dlq, int partition, in StoredRecord record)
    {
        var m = new MessageView(dlq, partition, record, 0);
        int? attempts = int.TryParse(m.HeaderText(GranaryHeaders.DeadLetterAttempts), NumberStyles.None, CultureInfo.InvariantCulture, out int a) ? a : null;
        return new(
            partition,
            m.Offset,
            m.HeaderText(GranaryHeaders.DeadLetterReason) ?? "",
            attempts,
            DateTimeOffset.FromUnixTimeMilliseconds(long.TryParse(m.HeaderText(GranaryHeaders.DeadLetteredAt), NumberStyles.None, CultureInfo.InvariantCulture, out long at) ? at : m.Timestamp.ToUnixTimeMilliseconds()),
            int.TryParse(m.HeaderText(GranaryHeaders.SourcePartition), NumberStyles.None, CultureInfo.InvariantCulture, out int sourcePartition) ? sourcePartition : 0,
            long.TryParse(m.HeaderText(GranaryHeaders.SourceOffset), NumberStyles.None, CultureInfo.InvariantCulture, out long sourceOffset) ? sourceOffset : -1,
            new MessageView(dlq, partition, record, attempts ?? 0));
    }

    private IConsumerGroupGrain Group(string topic, string group) => _cluster.GetGrain<IConsumerGroupGrain>($"{topic}/{group}");
}
