using System.Text;
using Granary.Client.Internal;
using Granary.Client.Serialization;

namespace Granary.Client;

/// <summary>Typed producing on top of the byte-level <see cref="GranaryClient"/> and <see cref="GranaryProducer"/>.</summary>
public static class TypedProducerExtensions
{
    /// <summary>
    /// Creates a producer of <typeparamref name="T"/> values to <paramref name="topic"/>, serialized by
    /// <paramref name="serializer"/> (null: <see cref="JsonMessageSerializer{T}"/> with web defaults). Disposing it
    /// disposes its underlying <see cref="GranaryProducer"/>.
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidName"/>.</exception>
    public static IProducer<T> CreateProducer<T>(this GranaryClient client, string topic, ProducerOptions? options = null, IMessageSerializer<T>? serializer = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new SerializingProducer<T>(client.CreateProducer(topic, options), serializer ?? new JsonMessageSerializer<T>(), ownsProducer: true);
    }

    /// <summary>
    /// A typed view of <paramref name="producer"/>, for sending several types through one producer; disposing the
    /// view does not dispose the producer.
    /// </summary>
    public static IProducer<T> ForType<T>(this GranaryProducer producer, IMessageSerializer<T>? serializer = null)
    {
        ArgumentNullException.ThrowIfNull(producer);
        return new SerializingProducer<T>(producer, serializer ?? new JsonMessageSerializer<T>(), ownsProducer: false);
    }

    /// <summary>
    /// Serializes <paramref name="value"/> (with <paramref name="serializer"/>, or JSON with web defaults) and sends
    /// it with its content type header; completes once it is stored durably.
    /// </summary>
    /// <exception cref="GranaryException">As <see cref="GranaryProducer.SendAsync"/>.</exception>
    public static Task<SendReceipt> SendAsync<T>(this GranaryProducer producer, T value, string? key = null,
        IMessageSerializer<T>? serializer = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(producer);
        serializer ??= new JsonMessageSerializer<T>();
        return producer.SendAsync(SerializingProducer<T>.ToOutgoing(value, key, serializer, Encoding.UTF8.GetBytes(serializer.ContentType)), cancellationToken);
    }
}
