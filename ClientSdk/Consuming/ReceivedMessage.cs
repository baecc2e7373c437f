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

    /// <summary>The consumer that received it.</summary>
    internal GranaryConsumer Consumer => _consumer;

    /// <summary>The member id this delivery was leased to (a consumer that rejoined has a new one since).</summary>
    internal string MemberId { get; }

    /// <summary>This delivery as the broker names it in acks and nacks: offset and lease.</summary>
    internal LeaseRef Lease => _lease.Ref;

    /// <summary>The lease id of this delivery.</summary>
    internal long LeaseId => _lease.LeaseId;

    /// <summary>When the lease ends and the message may go to another member.</summary>
    public DateTimeOffset LeaseExpiresAt => new(Interlocked.Read(ref _leaseExpiresAtTicks), TimeSpan.Zero);

    /// <summary>
    /// Marks the message done, without waiting for the broker: the ack is queued and the returned task is already
    /// complete. The consumer sends queued acks in batches, one broker call per partition, at once when no batch is on
    /// its way and otherwise as soon as the one on its way is answered, so acking each message in a loop (awaited or
    /// not) costs no round trip per message.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Guarantee: the ack is in this consumer's queue. If the process ends before the queue is sent (a crash, a kill),
    /// the broker never sees the ack and the message is delivered again once its lease ends: at-least-once.
    /// <see cref="GranaryConsumer.DisposeAsync"/> sends every queued ack and waits for the answers;
    /// <see cref="GranaryConsumer.FlushAcksAsync"/> waits for them without disposing; <see cref="AckConfirmedAsync"/>
    /// waits for this one ack.
    /// </para>
    /// <para>
    /// A queued ack the broker refuses (<see cref="GranaryErrorCode.StaleDelivery"/>), or whose call fails, is not lost from
    /// sight: the consumer counts it in <see cref="GranaryConsumer.FailedAcks"/>, raises
    /// <see cref="GranaryConsumer.AckFailed"/> with the message and the error, logs a warning, and the next
    /// <see cref="GranaryConsumer.FlushAcksAsync"/> throws it. A failed call is sent again a few times first (about
    /// 3 s), so a short outage loses no ack.
    /// </para>
    /// <para>
    /// An ack after the lease ended is still taken when nobody was given the message since (the work was done); once
    /// another delivery of the message exists it is refused and changes nothing.
    /// </para>
    /// </remarks>
    /// <exception cref="GranaryException">
    /// <see cref="GranaryErrorCode.AlreadyAcknowledged"/> on a second ack or nack; <see cref="GranaryErrorCode.Closed"/> when the
    /// consumer was disposed first (the message will be redelivered). Both are known here: the task is faulted at once.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the call: nothing was queued.</exception>
    /// <param name="cancellationToken">Checked once, before the ack is queued (queuing does not wait).</param>
    public Task AckAsync(CancellationToken cancellationToken = default) =>
        cancellationToken.IsCancellationRequested
            ? Task.FromCanceled(cancellationToken)
            : SettleAsync(GranaryConsumer.SettleKind.Ack, confirmed: false);

    /// <summary>
    /// Marks the message done and completes once the broker has taken the ack (it travels in the same batches as
    /// <see cref="AckAsync"/>). Use it where a refused ack matters, for example to undo side effects that another
    /// member will now repeat.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for the answer; the ack is still sent.</param>
    /// <exception cref="GranaryException">
    /// <see cref="GranaryErrorCode.AlreadyAcknowledged"/> on a second ack or nack; <see cref="GranaryErrorCode.StaleDelivery"/> when
    /// the message was delivered again since this delivery's lease ended (the new holder keeps it, and the message
    /// may be handled again); <see cref="GranaryErrorCode.Closed"/> when the consumer was disposed first; a retriable code
    /// (<see cref="GranaryErrorCode.PartitionUnavailable"/>, <see cref="GranaryErrorCode.Timeout"/>) when the call failed: the ack
    /// may or may not have been taken, and the message comes again if it was not.
    /// </exception>
    public Task AckConfirmedAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
        return WaitForAnswer(SettleAsync(GranaryConsumer.SettleKind.Ack, confirmed: true), cancellationToken);
    }

    /// <summary>
    /// The settlement's answer, or a cancelled wait for it. A caller that stopped waiting never sees the answer: a
    /// refusal must not fault the task unobserved.
    /// </summary>
    private static Task WaitForAnswer(Task settled, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled) return settled;
        _ = settled.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return settled.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Gives the message back: it is delivered again (to any member, or under the ordered modes before anything after
    /// it) once <paramref name="delay"/> has passed, at once by default. After the group's <c>MaxDeliveries</c>
    /// deliveries it goes to the dead-letter topic instead. Completes once the broker has taken the nack (a nack is
    /// not only queued, as <see cref="AckAsync"/> is: under the ordered modes its answer names the later deliveries
    /// taken back, which the consumer then skips).
    /// </summary>
    /// <exception cref="GranaryException">
    /// <see cref="GranaryErrorCode.AlreadyAcknowledged"/> on a second ack or nack; <see cref="GranaryErrorCode.StaleDelivery"/> when
    /// this delivery's lease had already ended (the message is delivered again anyway, and another member may hold it).
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled: before the call
    /// (nothing was sent), or while waiting for the answer (the nack is still sent and taken).</exception>
    public Task NackAsync(TimeSpan delay = default, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
        return WaitForAnswer(SettleAsync(GranaryConsumer.SettleKind.Nack, confirmed: true, delay), cancellationToken);
    }

    /// <summary>
    /// Sends the message to the group's dead-letter topic now, with reason <c>rejected</c> (a poison message); completes
    /// once the broker has taken it.
    /// </summary>
    /// <exception cref="GranaryException">
    /// <see cref="GranaryErrorCode.AlreadyAcknowledged"/> on a second ack or nack; <see cref="GranaryErrorCode.StaleDelivery"/> when
    /// this delivery's lease had already ended (the message is delivered again; reject that delivery).
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled: before the call
    /// (nothing was sent), or while waiting for the answer (the reject is still sent and taken).</exception>
    public Task RejectAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
        return WaitForAnswer(SettleAsync(GranaryConsumer.SettleKind.Reject, confirmed: true), cancellationToken);
    }

    /// <summary>
    /// Extends the lease to <paramref name="lease"/> from now, for long work. Returns false when the lease had
    /// already ended (the message may be with another member), or when the message was acked, nacked or rejected
    /// here already (also while that answer is still queued): only this delivery's own lease is ever extended.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; the extension
    /// may still have been taken (the lease is then longer than <see cref="LeaseExpiresAt"/> says).</exception>
    public async Task<bool> ExtendLeaseAsync(TimeSpan lease, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        cancellationToken.ThrowIfCancellationRequested();
        if (IsSettled) return false;
        var until = DateTimeOffset.UtcNow + lease;
        if (!await _consumer.ExtendLeaseAsync(this, lease, cancellationToken).ConfigureAwait(false)) return false;
        Interlocked.Exchange(ref _leaseExpiresAtTicks, until.UtcTicks);
        return true;
    }

    /// <summary>True once acked, nacked or rejected here (the answer may still be queued).</summary>
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

    /// <summary>Dead-letters the message with reason <c>deserialization</c> (a typed consumer could not read it); as <see cref="RejectAsync"/>.</summary>
    internal Task RejectUndeserializableAsync() => SettleAsync(GranaryConsumer.SettleKind.RejectDeserialization, confirmed: true);

    /// <summary>Marks the message settled for a settlement made with others (<see cref="GranaryConsumer.AckAsync(IReadOnlyCollection{ReceivedMessage}, CancellationToken)"/>); false when it was already.</summary>
    internal bool TryMarkSettled() => Interlocked.Exchange(ref _settled, 1) == 0;

    private Task SettleAsync(GranaryConsumer.SettleKind kind, bool confirmed, TimeSpan delay = default)
    {
        if (Interlocked.Exchange(ref _settled, 1) != 0)
            return Task.FromException(new GranaryException(GranaryErrorCode.AlreadyAcknowledged, $"Message {Partition}/{Offset} of topic '{Topic}' was acknowledged already."));
        return _consumer.SettleAsync(this, kind, confirmed, delay);
    }
}
