using Orleans.Concurrency;

namespace Granary.Grains;

/// <summary>
/// The delivery state of one consumer group on one partition. Key: <c>{topic}/{group}/{partition}</c>. It leases
/// each message to one member at a time (under the group's delivery mode), redelivers what is nacked or whose lease
/// expires, holds back delayed messages, dead-letters expired and poison messages, and keeps the acknowledged
/// position across restarts.
/// </summary>
[Alias("granary.IPartitionCursorGrain")]
public interface IPartitionCursorGrain : IGrainWithStringKey
{
    /// <summary>
    /// Leases up to <paramref name="maxMessages"/> messages to <paramref name="memberId"/> for <paramref name="lease"/>,
    /// waiting up to <paramref name="maxWait"/> when none is available. Redelivered messages come first.
    /// </summary>
    [Alias("Pull")] Task<PullResult> PullAsync(string memberId, int maxMessages, TimeSpan lease, TimeSpan maxWait);

    /// <summary>
    /// As <see cref="PullAsync"/>, with the leases in the compact form of <see cref="LeasedBatches"/> (runs, and
    /// attempts only where not 1): what the SDK calls. A separate method, so that clients of the version before it keep
    /// calling <see cref="PullAsync"/>.
    /// </summary>
    [Alias("PullRuns")] Task<LeasedBatches> PullRunsAsync(string memberId, int maxMessages, TimeSpan lease, TimeSpan maxWait);

    /// <summary>
    /// Acknowledges these deliveries of <paramref name="memberId"/>: the messages are done. A delivery is taken when its
    /// lease is the message's current one, or when its lease ended (expired, taken back, the member left) and nobody
    /// was given the message since (the work was done). Messages already done are ignored. Every other delivery is
    /// stale (another delivery of the message came after it, or it is from before a seek or a restart of the cursor):
    /// it changes nothing and is returned.
    /// </summary>
    /// <returns>The stale deliveries, refused; empty when every one was taken.</returns>
    [Alias("Ack")] Task<LeaseRef[]> AckAsync(string memberId, LeaseRef[] deliveries);

    /// <summary>
    /// As <see cref="AckAsync"/>, with the deliveries named as runs (<see cref="LeaseRun"/>): what the SDK sends. A run
    /// with a count below 1, one past the largest offset, or more than <see cref="LeaseRun.MaxPerCall"/> deliveries in
    /// one call are refused with <see cref="GranaryErrorCode.InvalidArgument"/> and change nothing. A separate method,
    /// so that clients of the version before it keep calling <see cref="AckAsync"/>.
    /// </summary>
    /// <returns>The stale deliveries, refused; empty when every one was taken.</returns>
    [Alias("AckRuns")] Task<LeaseRef[]> AckRunsAsync(string memberId, LeaseRun[] runs);

    /// <summary>
    /// Ends <paramref name="memberId"/>'s leases of these deliveries; the messages are delivered again after
    /// <paramref name="delay"/> (at once for zero). Only a delivery whose lease is still the message's current one
    /// counts; the others are refused and leave the message alone. Under the ordered modes, later messages of the
    /// same partition (Ordered) or key (KeyShared) that the member holds are taken back too, so that the nacked
    /// message goes out again first; those are returned, and the member must drop its copies of them (they come back
    /// in order). A take-back is not a delivery attempt: the message's attempt count goes back to what it was.
    /// </summary>
    [Alias("Nack")] Task<SettleResult> NackAsync(string memberId, LeaseRef[] deliveries, TimeSpan delay);

    /// <summary>
    /// Sends these deliveries' messages to the dead-letter topic now, with reason <c>rejected</c>. Taken under the
    /// same rule as <see cref="AckAsync"/>; returns the stale deliveries, refused.
    /// </summary>
    [Alias("Reject")] Task<LeaseRef[]> RejectAsync(string memberId, LeaseRef[] deliveries);

    /// <summary>
    /// As <see cref="RejectAsync"/>, with the dead letters' <see cref="GranaryHeaders.DeadLetterReason"/>:
    /// <see cref="GranaryHeaders.Reasons.Rejected"/> or <see cref="GranaryHeaders.Reasons.Deserialization"/>
    /// (another reason is refused with <see cref="GranaryErrorCode.InvalidArgument"/>). A separate method, so that clients
    /// and silos of the version before it keep calling <see cref="RejectAsync"/>.
    /// </summary>
    [Alias("RejectWithReason")] Task<LeaseRef[]> RejectWithReasonAsync(string memberId, LeaseRef[] deliveries, string reason);

    /// <summary>
    /// Extends <paramref name="memberId"/>'s leases of these deliveries to <paramref name="lease"/> from now; returns
    /// those whose lease was still the current one (and is now extended).
    /// </summary>
    [Alias("Extend")] Task<LeaseRef[]> ExtendAsync(string memberId, LeaseRef[] deliveries, TimeSpan lease);

    /// <summary>
    /// <paramref name="memberId"/> is leaving (a consumer being disposed): it takes nothing more from this partition
    /// (its pulls, also one waiting now, fail with <see cref="GranaryErrorCode.NotAMember"/>), and <paramref name="unseen"/>,
    /// deliveries it prefetched but never handed to its application, are ready again at once without counting as
    /// delivery attempts (like a take-back). Deliveries whose lease is no longer the current one are left alone; the
    /// member's other leases stay until its group's leave returns them (<see cref="ReleaseMemberAsync"/>).
    /// </summary>
    [Alias("ReleaseUnseen")] Task ReleaseUnseenAsync(string memberId, LeaseRef[] unseen);

    /// <summary>
    /// Returns everything leased to a member that left, and refuses it further messages: its pulls fail with
    /// <see cref="GranaryErrorCode.NotAMember"/> so that it joins again under a new id.
    /// </summary>
    [Alias("ReleaseMember")] Task ReleaseMemberAsync(string memberId);

    /// <summary>New settings or owner from the group (a rebalance under Ordered takes back the old owner's leases).</summary>
    [Alias("Configure")] Task ConfigureAsync(CursorSetup setup);

    /// <summary>Moves the cursor to <paramref name="offset"/>: everything below counts as acknowledged, nothing at or above does.</summary>
    [Alias("Seek")] Task SeekAsync(long offset);

    /// <summary>
    /// Makes sure the cursor is active and watching for expiring and delayed messages (the partition calls it when
    /// such messages arrive, so that they are handled even with no consumer connected).
    /// </summary>
    [Alias("Wake")] Task WakeAsync();

    /// <summary>Position and counters, for lag and operators.</summary>
    [Alias("Describe")] Task<CursorInfo> DescribeAsync();

    /// <summary>Clears the state (the group or topic is being deleted).</summary>
    [Alias("Delete")] Task DeleteAsync();
}

/// <summary>A cursor's position and counters.</summary>
/// <param name="CommittedOffset">Every offset below is acknowledged (or expired, dead-lettered, skipped).</param>
/// <param name="InFlight">Messages leased now.</param>
/// <param name="Available">Messages fetched and ready to deliver.</param>
/// <param name="AckedAbove">Acknowledged messages at or above <paramref name="CommittedOffset"/>.</param>
/// <param name="Delayed">Messages held back until their deliver-at time or nack delay.</param>
/// <param name="OldestUnackedTimestampMs">Broker timestamp of the message at the committed offset, when one is stored.</param>
/// <param name="Expired">Messages that expired unacknowledged.</param>
/// <param name="DeadLettered">Messages sent to the dead-letter topic.</param>
/// <param name="Skipped">Messages retention deleted before they were acknowledged.</param>
[GenerateSerializer, Immutable, Alias("granary.CursorInfo")]
public sealed record CursorInfo(
    [property: Id(0)] long CommittedOffset,
    [property: Id(1)] int InFlight,
    [property: Id(2)] int Available,
    [property: Id(3)] int AckedAbove,
    [property: Id(4)] int Delayed,
    [property: Id(5)] long? OldestUnackedTimestampMs,
    [property: Id(6)] long Expired,
    [property: Id(7)] long DeadLettered,
    [property: Id(8)] long Skipped);

/// <summary>One delivery of a message: its offset and the lease the cursor issued with it.</summary>
/// <param name="Offset">The message's offset.</param>
/// <param name="LeaseId">
/// <see cref="LeasedRecord.LeaseId"/>: unique per delivery of the cursor (a redelivery, even with the same attempt
/// number, gets a new one), so an answer to an old delivery can never settle a newer one.
/// </param>
[GenerateSerializer, Immutable, Alias("granary.LeaseRef")]
public sealed record LeaseRef([property: Id(0)] long Offset, [property: Id(2)] long LeaseId);

/// <summary>What a nack did.</summary>
/// <param name="Refused">Stale deliveries (their lease was no longer the message's current one): nothing changed for them.</param>
/// <param name="Revoked">Later deliveries the cursor took back to keep the order (ordered modes): drop them, they come again.</param>
[GenerateSerializer, Immutable, Alias("granary.SettleResult")]
public sealed record SettleResult([property: Id(0)] LeaseRef[] Refused, [property: Id(1)] LeaseRef[] Revoked);
