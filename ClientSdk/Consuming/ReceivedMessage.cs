using System.Text;
using Granary.Grains;

namespace Granary.Client;

/// <summary>
/// A delivered message, leased to this consumer until acknowledged, negatively acknowledged, or its ack timeout
/// passes. Acknowledge exactly once.
/// </summary>
public sealed class ReceivedMessage
{
    private readonly GranaryConsumer _consumer;
    private readonly Delivery _delivery;
    private int _settled;

    private int _revoked;
    // 0: prefetched; 1: handed to the application (ReadAllAsync yielded it, or a handler started on it); 2: given
    // back unseen when the consumer was disposed.
    private int _handover;
    private long _leaseExpiresAtTicks;

    internal ReceivedMessage(GranaryConsumer consumer, string memberId, Delivery delivery, DateTimeOffset leaseExpiresAt)
    {
        _consumer = consumer;
        MemberId = memberId;
        _delivery = delivery;
        _leaseExpiresAtTicks = leaseExpiresAt.UtcTicks;
        Headers = delivery.Message.Headers is { } headers ? headers.ToDictionary(h => h.Name, h => h.Value) : EmptyHeaders;
    }

    private static readonly IReadOnlyDictionary<string, byte[]> EmptyHeaders = new Dictionary<string, byte[]>();

    /// <summary>The member id this delivery was leased to (a consumer that rejoined has a new one since).</summary>
    internal string MemberId { get; }

    /// <summary>This delivery as the broker names it in acks and nacks: offset and lease.</summary>
    internal LeaseRef Lease => _delivery.Ref;

    /// <summary>Topic.</summary>
    public string Topic => _consumer.Topic;
    /// <summary>Partition it came from.</summary>
    public int Partition => _delivery.Partition;
    /// <summary>Offset in that partition.</summary>
    public long Offset => _delivery.Message.Offset;
    /// <summary>The key it was sent with, or null.</summary>
    public string? Key => _delivery.Message.Key is { } key ? Encoding.UTF8.GetString(key) : null;
    /// <summary>The body.</summary>
    public ReadOnlyMemory<byte> Payload => _delivery.Message.Payload;
    /// <summary>Headers it was sent with.</summary>
    public IReadOnlyDictionary<string, byte[]> Headers { get; }
    /// <summary>When the broker stored it.</summary>
    public DateTimeOffset Timestamp => DateTimeOffset.FromUnixTimeMilliseconds(_delivery.Message.TimestampMs);
    /// <summary>
    /// 1 on the first delivery; raised each time it is delivered again after a nack, a lease expiry or its member
    /// leaving. A delivery the broker took back to keep the order (<see cref="IsRevoked"/>) does not count, nor does
    /// a prefetched one that the consumer gave back unseen when it was disposed.
    /// </summary>
    public int DeliveryAttempt => _delivery.Attempt;
    /// <summary>When the lease ends and the message may go to another member.</summary>
    public DateTimeOffset LeaseExpiresAt => new(Interlocked.Read(ref _leaseExpiresAtTicks), TimeSpan.Zero);

    /// <summary>When the message expires (its time to live), or null when it never does.</summary>
    public DateTimeOffset? ExpiresAt => _delivery.Message.ExpiresAtMs is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    /// <summary>The sender's message id (<see cref="OutgoingMessage.MessageId"/>), or null.</summary>
    public string? MessageId => Headers.TryGetValue(GranaryHeaders.MessageId, out var id) ? Encoding.UTF8.GetString(id) : null;

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
