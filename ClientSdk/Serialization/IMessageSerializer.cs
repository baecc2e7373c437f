namespace Granary.Client.Serialization;

/// <summary>
/// Turns values of <typeparamref name="T"/> into message payloads and back, for typed producers and consumers
/// (<see cref="IProducer{T}"/>, <see cref="IMessageHandler{T}"/>). <see cref="JsonMessageSerializer{T}"/> is the
/// default; implement this interface for another format (Protobuf, MessagePack, Avro). One instance serves many
/// messages at once: implementations must be thread-safe.
/// </summary>
/// <typeparam name="T">The message type.</typeparam>
public interface IMessageSerializer<T>
{
    /// <summary>
    /// The MIME type of the payloads it writes (for example <c>application/json</c>): producers record it in the
    /// <see cref="GranaryHeaders.ContentType"/> header; a consumer dead-letters a message whose header
    /// names another type (reason <c>deserialization</c>) rather than guess. Compared without case and without
    /// parameters (<c>application/json; charset=utf-8</c> matches <c>application/json</c>).
    /// </summary>
    string ContentType { get; }

    /// <summary>The payload of <paramref name="value"/>.</summary>
    byte[] Serialize(T value);

    /// <summary>
    /// The value a payload holds. Throw (any exception) when the payload is not one: the consumer then dead-letters
    /// the message with reason <c>deserialization</c> instead of handling it.
    /// </summary>
    T Deserialize(ReadOnlySpan<byte> payload);
}
