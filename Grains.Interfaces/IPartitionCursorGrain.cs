namespace Granary.Grains;

/// <summary>
/// The delivery state of one consumer group on one partition. Key: <c>{topic}/{group}/{partition}</c>. It leases
/// each message to one member at a time, redelivers what is nacked or whose lease expires, and keeps the
/// acknowledged position across restarts.
/// </summary>
[Alias("granary.IPartitionCursorGrain")]
public interface IPartitionCursorGrain : IGrainWithStringKey
{
    /// <summary>
    /// Leases up to <paramref name="maxMessages"/> messages to <paramref name="memberId"/> for <paramref name="lease"/>,
    /// waiting up to <paramref name="maxWait"/> when none is available. Redelivered messages come first.
    /// </summary>
    [Alias("Pull")] Task<Delivery[]> PullAsync(string memberId, int maxMessages, TimeSpan lease, TimeSpan maxWait);

    /// <summary>Ends the leases of these offsets: the messages are done. Offsets already acknowledged are ignored.</summary>
    [Alias("Ack")] Task AckAsync(long[] offsets);

    /// <summary>
    /// Ends <paramref name="memberId"/>'s leases of these offsets and makes the messages available again at once.
    /// Offsets leased to someone else (the member's lease had expired) are left alone.
    /// </summary>
    [Alias("Nack")] Task NackAsync(string memberId, long[] offsets);

    /// <summary>
    /// Returns everything leased to a member that left, and refuses it further messages: its pulls fail with
    /// <see cref="ErrorCode.NotAMember"/> so that it joins again under a new id.
    /// </summary>
    [Alias("ReleaseMember")] Task ReleaseMemberAsync(string memberId);

    /// <summary>Acknowledged position and counts, for tests and operators.</summary>
    [Alias("Describe")] Task<CursorInfo> DescribeAsync();

    /// <summary>Clears the state (the group or topic is being deleted).</summary>
    [Alias("Delete")] Task DeleteAsync();
}

/// <summary>A cursor's position: every offset below <paramref name="CommittedOffset"/> is acknowledged.</summary>
[GenerateSerializer, Immutable, Alias("granary.CursorInfo")]
public sealed record CursorInfo([property: Id(0)] long CommittedOffset, [property: Id(1)] int InFlight, [property: Id(2)] int Available);
