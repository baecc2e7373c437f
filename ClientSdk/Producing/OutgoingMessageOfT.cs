namespace Granary.Client;

/// <summary>
/// A typed message to send with <see cref="IProducer{T}.SendAsync(OutgoingMessage{T}, CancellationToken)"/>: the value
/// and the settings of <see cref="OutgoingMessage"/>, whose documentation gives their rules.
/// </summary>
/// <typeparam name="T">The message type.</typeparam>
/// <param name="value">The value; serialized when sent.</param>
public sealed class OutgoingMessage<T>(T value)
{
    /// <summary>The value.</summary>
    public T Value { get; } = value;

    /// <summary>Routing and ordering key (<see cref="OutgoingMessage.Key"/>).</summary>
    public string? Key { get; init; }

    /// <summary>
    /// Headers (<see cref="OutgoingMessage.Headers"/>). The serializer's content type is added unless these have a
    /// <see cref="GranaryHeaders.ContentType"/> header already (which is kept).
    /// </summary>
    public IReadOnlyDictionary<string, byte[]>? Headers { get; init; }

    /// <summary>Send to this partition (<see cref="OutgoingMessage.Partition"/>).</summary>
    public int? Partition { get; init; }

    /// <summary>Time to live (<see cref="OutgoingMessage.TimeToLive"/>).</summary>
    public TimeSpan? TimeToLive { get; init; }

    /// <summary>Deliver to no group before this time (<see cref="OutgoingMessage.DeliverAt"/>).</summary>
    public DateTimeOffset? DeliverAt { get; init; }

    /// <summary>Deliver to no group before this long from the send (<see cref="OutgoingMessage.Delay"/>).</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>An id for broker-side deduplication (<see cref="OutgoingMessage.MessageId"/>).</summary>
    public string? MessageId { get; init; }
}
