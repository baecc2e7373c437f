namespace Granary.Client;

/// <summary>
/// A delivered message with its deserialized <see cref="Value"/>. <see cref="Message"/> is the underlying
/// <see cref="ReceivedMessage"/>: its headers, offset and delivery attempt, and its ack, nack, reject and lease extension.
/// </summary>
/// <typeparam name="T">The message type.</typeparam>
public sealed class ReceivedMessage<T>
{
    internal ReceivedMessage(ReceivedMessage message, T value)
    {
        Message = message;
        Value = value;
    }

    /// <summary>The deserialized payload.</summary>
    public T Value { get; }

    /// <summary>The delivered message (payload bytes, headers, offset), to acknowledge or reject it yourself.</summary>
    public ReceivedMessage Message { get; }

    /// <summary>Its key (<see cref="MessageView.Key"/>).</summary>
    public string? Key => Message.Key;

    /// <summary>Its headers (<see cref="MessageView.Headers"/>).</summary>
    public IReadOnlyDictionary<string, byte[]> Headers => Message.Headers;

    /// <summary>Its partition (<see cref="MessageView.Partition"/>).</summary>
    public int Partition => Message.Partition;

    /// <summary>Its offset (<see cref="MessageView.Offset"/>).</summary>
    public long Offset => Message.Offset;

    /// <summary>1 on the first delivery (<see cref="MessageView.DeliveryAttempt"/>).</summary>
    public int DeliveryAttempt => Message.DeliveryAttempt;

    /// <summary>The sender's message id (<see cref="MessageView.MessageId"/>).</summary>
    public string? MessageId => Message.MessageId;
}
