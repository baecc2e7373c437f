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

    internal ReceivedMessage(GranaryConsumer consumer, Delivery delivery, DateTimeOffset leaseExpiresAt)
    {
        _consumer = consumer;
        _delivery = delivery;
        LeaseExpiresAt = leaseExpiresAt;
        Headers = delivery.Message.Headers is { } headers ? headers.ToDictionary(h => h.Name, h => h.Value) : EmptyHeaders;
    }

    private static readonly IReadOnlyDictionary<string, byte[]> EmptyHeaders = new Dictionary<string, byte[]>();

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
    /// <summary>1 on the first delivery; raised each time it is delivered again.</summary>
    public int DeliveryAttempt => _delivery.Attempt;
    /// <summary>When the lease ends and the message may go to another member.</summary>
    public DateTimeOffset LeaseExpiresAt { get; }

    /// <summary>Marks the message done. Acks are sent in batches; this completes once the broker has it.</summary>
    /// <exception cref="GranaryException"><see cref="ErrorCode.AlreadyAcknowledged"/> on a second ack or nack.</exception>
    public Task AckAsync() => SettleAsync(ack: true);

    /// <summary>Gives the message back: it is redelivered (to any member) at once.</summary>
    /// <exception cref="GranaryException"><see cref="ErrorCode.AlreadyAcknowledged"/> on a second ack or nack.</exception>
    public Task NackAsync() => SettleAsync(ack: false);

    /// <summary>True once acked or nacked.</summary>
    public bool IsSettled => Volatile.Read(ref _settled) != 0;

    private Task SettleAsync(bool ack)
    {
        if (Interlocked.Exchange(ref _settled, 1) != 0)
            return Task.FromException(new GranaryException(ErrorCode.AlreadyAcknowledged, $"Message {Partition}/{Offset} of topic '{Topic}' was acknowledged already."));
        return _consumer.SettleAsync(this, ack);
    }
}
