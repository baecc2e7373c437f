namespace Granary.Client;

/// <summary>What went wrong, in terms a client can act on.</summary>
public enum GranaryErrorCode
{
    /// <summary>A topic or group name breaks the naming rule <c>[a-zA-Z0-9._-]{1,200}</c>.</summary>
    InvalidName = 1,
    /// <summary>An argument is out of range (a partition count of zero, a negative offset, ...).</summary>
    InvalidArgument = 2,
    /// <summary>The topic does not exist (never created, or deleted).</summary>
    TopicNotFound = 3,
    /// <summary>A topic with that name exists already.</summary>
    TopicAlreadyExists = 4,
    /// <summary>A message is larger than the topic's <c>MaxMessageBytes</c>.</summary>
    MessageTooLarge = 5,
    /// <summary>The message was acknowledged or negatively acknowledged already.</summary>
    AlreadyAcknowledged = 6,
    /// <summary>The partition cannot serve right now (its log failed, or its silo is going away); retry.</summary>
    PartitionUnavailable = 7,
    /// <summary>The disk holding the partition is full; retry once space is freed.</summary>
    DiskFull = 8,
    /// <summary>Stored data failed its checksum; the damaged messages cannot be read.</summary>
    CorruptData = 9,
    /// <summary>The operation did not complete in time; retry.</summary>
    Timeout = 10,
    /// <summary>The client or consumer was disposed.</summary>
    Closed = 11,
    /// <summary>The consumer is no longer a member of its group (it left or missed its session); it must join again.</summary>
    NotAMember = 12,
    /// <summary>The partition is full under the topic's <c>RejectPublish</c> overflow policy; retry once consumers catch up.</summary>
    QueueFull = 13,
    /// <summary>An idempotent producer's batch arrived out of sequence (an earlier batch is still being retried); retry.</summary>
    OutOfOrderSequence = 14,
    /// <summary>
    /// Fewer replicas of the partition than the topic's <c>MinInSyncReplicas</c> are reachable, or they did not confirm
    /// in time (a silo failed); retry. A batch that got this error may still be stored.
    /// </summary>
    NotEnoughReplicas = 15,
    /// <summary>
    /// Between silos: the caller led the partition at an older epoch than one its replica has seen since (a newer
    /// leader exists). Clients see <see cref="PartitionUnavailable"/> from the deposed leader instead.
    /// </summary>
    NotLeader = 16,
    /// <summary>
    /// The topic has no consumer group of that name (a group exists once a consumer joined it, until it is deleted).
    /// </summary>
    GroupNotFound = 17,
    /// <summary>
    /// An ack, nack or reject answered a delivery whose lease is no longer the message's current one: the lease
    /// expired, was taken back or its member left, and the message was delivered again since (or the cursor was
    /// moved by a seek). Nothing changed; the message's current holder keeps it.
    /// </summary>
    StaleDelivery = 18,
    /// <summary>
    /// The call is not open to this caller: the method is internal to the cluster's silos (replication, leadership,
    /// bookkeeping between grains), or the caller's principal lacks the permission (security on). Nothing changed.
    /// Not retriable.
    /// </summary>
    NotAllowed = 19,
    /// <summary>
    /// Security is on and the call carried no credential, or one the cluster does not accept (unknown, malformed,
    /// revoked or expired API key, token or certificate session). Nothing changed. Not retriable.
    /// </summary>
    Unauthenticated = 20,
    /// <summary>No such API key or permission rule. Nothing changed.</summary>
    NotFound = 21,
}
