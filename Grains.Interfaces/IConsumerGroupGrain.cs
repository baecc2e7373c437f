using Orleans.Concurrency;

namespace Granary.Grains;

/// <summary>
/// A consumer group of a topic: settings, members, heartbeats, the start position and, under
/// <see cref="DeliveryMode.Ordered"/>, which member owns which partition. Key: <c>{topic}/{group}</c>.
/// </summary>
[Alias("granary.IConsumerGroupGrain")]
public interface IConsumerGroupGrain : IGrainWithStringKey
{
    /// <summary>
    /// Adds a member, creating the group with <paramref name="settings"/> on first use. Later joins update the
    /// dead-letter settings; a different delivery mode is refused while other members are connected.
    /// </summary>
    [Alias("Join")] Task<GroupJoinResult> JoinAsync(string memberId, GroupSettings settings);

    /// <summary>Keeps a member alive and tells it the partition count.</summary>
    [Alias("Heartbeat")] Task<HeartbeatResult> HeartbeatAsync(string memberId);

    /// <summary>Removes a member; what it held unacknowledged goes back to the others at once.</summary>
    [Alias("Leave")] Task LeaveAsync(string memberId);

    /// <summary>
    /// What a partition's cursor needs to start. Always interleaves: cursors ask while the group may be waiting on
    /// them (a member leaving, a rebalance).
    /// </summary>
    [Alias("GetCursorSetup"), AlwaysInterleave] Task<CursorSetup> GetCursorSetupAsync(int partition);

    /// <summary>Moves every partition's cursor (or one) to <paramref name="target"/>; what was in flight is dropped.</summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidArgument"/> for a negative offset or an unknown partition.</exception>
    [Alias("Seek")] Task SeekAsync(SeekTarget target);

    /// <summary>Lag and counters per partition.</summary>
    [Alias("GetLag")] Task<GroupLag> GetLagAsync();

    /// <summary>Settings, members and assignment.</summary>
    [Alias("Describe")] Task<GroupDescription> DescribeAsync();

    /// <summary>
    /// Re-publishes the group's dead letters with offsets in [<paramref name="fromOffset"/>, <paramref name="toOffset"/>)
    /// (every partition of the dead-letter topic) to their source partitions, addressed to this group only. Returns
    /// how many were re-published.
    /// </summary>
    /// <remarks>Always interleaves: a long redrive must not hold up the members' heartbeats.</remarks>
    [Alias("Redrive"), AlwaysInterleave] Task<int> RedriveAsync(long fromOffset, long toOffset);

    /// <summary>Forgets the group and its cursors (the topic is being deleted).</summary>
    [Alias("Delete")] Task DeleteAsync();
}
