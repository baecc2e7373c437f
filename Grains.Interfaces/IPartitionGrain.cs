namespace Granary.Grains;

/// <summary>
/// One partition of a topic and the owner of its log. Key: <c>{topic}/{partition}</c>. Appends are confirmed only
/// once the log's flush policy is satisfied (on disk under the default policy).
/// </summary>
[Alias("granary.IPartitionGrain")]
public interface IPartitionGrain : IGrainWithStringKey
{
    /// <summary>
    /// Appends an encoded batch and returns where it landed, once durable. The partition checks the batch once
    /// (structure, CRC, record count, producer fields, sizes), stamps its offsets, time and the topic's default time to
    /// live into it in place and stores it as it is: the caller hands the buffer over and must not change or reuse it
    /// before the call completed.
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.TopicNotFound"/>, <see cref="GranaryErrorCode.MessageTooLarge"/>,
    /// <see cref="GranaryErrorCode.InvalidArgument"/> (a malformed, truncated or forged batch: nothing is stored),
    /// <see cref="GranaryErrorCode.DiskFull"/> or <see cref="GranaryErrorCode.PartitionUnavailable"/>.</exception>
    [Alias("Append")] Task<AppendResult> AppendAsync([Immutable] ProduceBatch batch);

    /// <summary>
    /// Confirmed messages from <paramref name="fromOffset"/>, waiting up to <paramref name="maxWait"/> when there
    /// are none yet. An offset below the retained start resumes at the start.
    /// </summary>
    [Alias("Fetch")] Task<FetchResult> FetchAsync(long fromOffset, int maxMessages, TimeSpan maxWait);

    /// <summary>The first offset whose timestamp is at or after <paramref name="timestampMs"/>; the end offset when none is.</summary>
    [Alias("FindOffset")] Task<long> FindOffsetAsync(long timestampMs);

    /// <summary>
    /// A cursor's committed offset: under the <see cref="OverflowPolicy.RejectPublish"/> policy retention never
    /// deletes at or above the lowest one of any group.
    /// </summary>
    [Alias("ReportCommitted")] Task ReportCommittedAsync(string group, long committedOffset);

    /// <summary>
    /// A group's cursor has read to <paramref name="fromOffset"/> and found nothing more that expires or is delayed:
    /// the partition wakes it again when such a message is appended (at once, if one came meanwhile).
    /// </summary>
    [Alias("WatchStopped")] Task WatchStoppedAsync(string group, long fromOffset);

    /// <summary>Offsets, size and silo of the partition.</summary>
    [Alias("Describe")] Task<PartitionInfo> DescribeAsync();

    /// <summary>
    /// Closes and deletes the log of the topic's <paramref name="incarnation"/> (<see cref="TopicConfig.Incarnation"/>;
    /// the topic is being deleted). Calls still waiting on the partition, and calls after, get
    /// <see cref="GranaryErrorCode.TopicNotFound"/>.
    /// </summary>
    [Alias("Delete")] Task DeleteAsync(string? incarnation);

    /// <summary>The topic's settings changed (<see cref="ITopicGrain.AlterAsync"/>): an open partition applies them now.</summary>
    [Alias("ApplyConfig")] Task ApplyConfigAsync(TopicConfig config);
}
