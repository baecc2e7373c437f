using Granary.Client.Serialization;
using Granary.Grains;

namespace Granary.Client.Internal;

/// <summary>
/// Reads a delivered message as a <typeparamref name="T"/>; one that cannot be read (a payload the serializer
/// refuses, or a <see cref="GranaryHeaders.ContentType"/> that is not the serializer's) is dead-lettered with reason
/// <see cref="GranaryHeaders.Reasons.Deserialization"/>: never handed to the handler, never lost, never the end of the consumer.
/// </summary>
internal static class TypedDelivery<T>
{
    /// <summary>The typed message, or null when <paramref name="message"/> was dead-lettered instead.</summary>
    public static async ValueTask<ReceivedMessage<T>?> ReadAsync(ReceivedMessage message, IMessageSerializer<T> serializer)
    {
        Exception error;
        try
        {
            string? contentType = message.HeaderText(GranaryHeaders.ContentType);
            if (ContentTypes.Accepts(contentType, serializer.ContentType))
                return new ReceivedMessage<T>(message, serializer.Deserialize(message.Payload.Span));
            error = new GranaryException(GranaryErrorCode.InvalidArgument,
                $"The message's content type is '{contentType}'; this consumer reads '{serializer.ContentType}'.");
        }
        catch (Exception e)
        {
            error = e;
        }
        var consumer = message.Consumer;
        TypedConsumerLog.Undeserializable(consumer.Logger, message.Topic, message.Partition, message.Offset, message.DeliveryAttempt, typeof(T).Name, error);
        try
        {
            await message.RejectUndeserializableAsync().ConfigureAwait(false);
        }
        catch (GranaryException e)
        {
            // Its lease ended, or the consumer is closing: the message comes again and is read (and rejected) again.
            TypedConsumerLog.UndeserializableRejectFailed(consumer.Logger, message.Topic, message.Partition, message.Offset, typeof(T).Name, e.Code);
        }
        return null;
    }
}
