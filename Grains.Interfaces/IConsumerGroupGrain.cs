using Orleans.Concurrency;

namespace Granary.Grains;

/// <summary>A consumer group of a topic: members, heartbeats, start position. Key: <c>{topic}/{group}</c>.</summary>
[Alias("granary.IConsumerGroupGrain")]
public interface IConsumerGroupGrain : IGrainWithStringKey
{
    /// <summary>Adds a member, creating the group (at <paramref name="startPosition"/>) on first use.</summary>
    [Alias("Join")] Task<GroupJoinResult> JoinAsync(string memberId, StartPosition startPosition);

    /// <summary>Keeps a member alive; false when the group no longer knows it (it must join again).</summary>
    [Alias("Heartbeat")] Task<bool> HeartbeatAsync(string memberId);

    /// <summary>Removes a member; what it held unacknowledged goes back to the others at once.</summary>
    [Alias("Leave")] Task LeaveAsync(string memberId);

    /// <summary>
    /// Where a partition's cursor starts when it has no state: null means the earliest retained offset. Always
    /// interleaves: cursors ask while the group may be waiting on them (a member leaving).
    /// </summary>
    [Alias("GetStartOffset"), AlwaysInterleave] Task<long?> GetStartOffsetAsync(int partition);

    /// <summary>Forgets the group and its cursors (the topic is being deleted).</summary>
    [Alias("Delete")] Task DeleteAsync();
}
