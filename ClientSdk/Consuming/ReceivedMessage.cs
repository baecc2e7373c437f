using Granary.Grains;
using Granary.Records;

namespace Granary.Client;

/// <summary>
/// A delivered message, leased to this consumer until acknowledged, negatively acknowledged, or its ack timeout
/// passes. Acknowledge exactly once.
/// </summary>
/// <remarks>
/// Key, headers and payload are read from the buffer of the pull that brought the message (see
/// <see cref="MessageView"/>): nothing is copied per message, and key and headers are decoded on first use.
/// </remarks>
public sealed class ReceivedMessage : MessageView
{
    private readonly GranaryConsumer _consumer;
    private readonly LeasedRecord _lease;
    private int _settled;

    private int _revoked;
    // 0: prefetched; 1: handed to the application (ReadAllAsync yielded it, or a handler started on it); 2: given
    // back unseen when the consumer was disposed.
    private int _handover;
    private long _leaseExpiresAtTicks;

    internal ReceivedMessage(GranaryConsumer consumer, string memberId, int partition, in StoredRecord record, LeasedRecord lease, DateTimeOffset leaseExpiresAt)
        : base(consumer.Topic, partition, record, lease.Attempt)
    {
        _consumer = consumer;
        MemberId = memberId;
        _lease = lease;
        _leaseExpiresAtTicks = leaseExpiresAt.UtcTicks;
    }

    /// <summary>The member id this delivery was leased to (a consumer that rejoined has a new one since).</summary>
    internal string MemberId { get; }

    /// <summary>This delivery as the broker names it in acks and nacks: offset and lease.</summary>
    internal LeaseRef Lease => _lease.Ref;

    /// <summary>The lease id of this delivery.</summary>
    internal long LeaseId => _lease.LeaseId;

    /// <summary>When the lease ends and the message may go to another member.</summary>
    public DateTimeOffset LeaseExpiresAt => new(Interlocked.Read(ref _leaseExpiresAtTicks), TimeSpan.Zero);

    /// <summary>
    /// Marks the message done. Acks are sent in batches; this completes once the broker has it. An ack after the lease
    /// ended is still taken when nobody was given the message since (the work was done); once another delivery of the
    /// message exists it is refused and changes nothing.
    /// </summary>
    /// <remarks>
    /// The returned task carries the broker's answer. An ack that is not awaited (fire and forget) is still sent with
    /// its batch, but a refusal then only faults the unobserved task: await it where a refused ack matters (for
    /// example to undo side effects that another member will now repeat).
    /// </remarks>
    /// <exception cref="GranaryException">
    /// <see cref="ErrorCode.AlreadyAcknowledged"/> on a second ack or nack; <see cref="ErrorCode.StaleDelivery"/> when
    /// the message was delivered again since this delivery's lease ended (the new holder keeps it, and the message
    /// may be handled again); <see cref="ErrorCode.Closed"/> when the consumer was disposed first.
    /// </exception>
    public Task AckAsync() => SettleAsync(GranaryConsumer.SettleKind.Ack);

    /// <summary>
    /// Gives the message back: it is delivered again (to any member, or under the ordered modes before anything after
    /// it) once <paramref name="delay"/> has passed, at once by default. After the group's <c>MaxDeliveries</c>
    /// deliveries it goes to the dead-letter topic instead.
    /// </summary>
    /// <exception cref="GranaryException">
    /// <see cref="ErrorCode.AlreadyAcknowledged"/> on a second ack or nack; <see cref="ErrorCode.StaleDelivery"/> when
    /// this delivery's lease had already ended (the message is delivered again anyway, and another member may hold it).
    /// </exception>
    public Task NackAsync(TimeSpan delay = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        return SettleAsync(GranaryConsumer.SettleKind.Nack, delay);
    }

    /// <summary>Sends the message to the group's dead-letter topic now, with reason <c>rejected</c> (a poison message).</summary>
    /// <exception cref="GranaryException">
    /// <see cref="ErrorCode.AlreadyAcknowledged"/> on a second ack or nack; <see cref="ErrorCode.StaleDelivery"/> when
    /// this delivery's lease had already ended (the message is delivered again; reject that delivery).
    /// </exception>
    public Task RejectAsync() => SettleAsync(GranaryConsumer.SettleKind.Reject);

    /// <summary>
    /// Extends the lease to <paramref name="lease"/> from now, for long work. Returns false when the lease had
    /// already ended (the message may be with another member): only this delivery's own lease is ever extended.
    /// </summary>
    public async Task<bool> ExtendLeaseAsync(TimeSpan lease)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        var until = DateTimeOffset.UtcNow + lease;
        if (!await _consumer.ExtendLeaseAsync(this, lease).ConfigureAwait(false)) return false;
        Interlocked.Exchange(ref _leaseExpiresAtTicks, until.UtcTicks);
        return true;
    }

    /// <summary>True once acked or nacked.</summary>
    public bool IsSettled => Volatile.Read(ref _settled) != 0;

    /// <summary>
    /// True when the broker took this delivery back (an earlier message of its partition or key was nacked under an
    /// ordered mode): do not handle it; it comes again after the nacked one. Handler runners skip such messages.
    /// </summary>
    public bool IsRevoked => Volatile.Read(ref _revoked) != 0;

    internal void MarkRevoked() => Volatile.Write(ref _revoked, 1);

    /// <summary>Marks the message handed to the application; false when it was given back unseen already.</summary>
    internal bool TryHandOver() => Interlocked.CompareExchange(ref _handover, 1, 0) != 2;

    /// <summary>Marks a message the application never saw as given back; false when it was handed over already.</summary>
    internal bool TryReleaseUnseen() => Interlocked.CompareExchange(ref _handover, 2, 0) == 0;

    private Task SettleAsync(GranaryConsumer.SettleKind kind, TimeSpan delay = default)
    {
        if (Interlocked.Exchange(ref _settled, 1) != 0)
            return Task.FromException(new GranaryException(ErrorCode.AlreadyAcknowledged, $"Message {Partition}/{Offset} of topic '{Topic}' was acknowledged already."));
        return _consumer.SettleAsync(this, kind, delay);
    }
}
