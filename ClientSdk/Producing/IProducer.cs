namespace Granary.Client;

/// <summary>
/// Sends values of <typeparamref name="T"/> to one topic, serialized by an <see cref="Serialization.IMessageSerializer{T}"/>
/// whose content type goes in the <see cref="GranaryHeaders.ContentType"/> header. Made by
/// <see cref="TypedProducerExtensions.CreateProducer{T}(GranaryClient, string, ProducerOptions?, Serialization.IMessageSerializer{T}?)"/>;
/// batching, confirmation and idempotence are those of <see cref="GranaryProducer"/>. Thread-safe; share one per topic.
/// </summary>
/// <typeparam name="T">The message type.</typeparam>
public interface IProducer<T> : IAsyncDisposable
{
    /// <summary>The topic it sends to.</summary>
    string Topic { get; }

    /// <summary>Sends <paramref name="value"/> with an optional routing and ordering <paramref name="key"/>; completes once it is stored durably.</summary>
    /// <exception cref="GranaryException">As <see cref="GranaryProducer.SendAsync"/>.</exception>
    /// <exception cref="Exception">Whatever the serializer throws for a value it cannot write; nothing is sent then.</exception>
    Task<SendReceipt> SendAsync(T value, string? key = null, CancellationToken cancellationToken = default);

    /// <summary>Sends a value with the other message settings (headers, partition, time to live, delay, message id).</summary>
    /// <exception cref="GranaryException">As <see cref="GranaryProducer.SendAsync"/>.</exception>
    Task<SendReceipt> SendAsync(OutgoingMessage<T> message, CancellationToken cancellationToken = default);

    /// <summary>Waits until every send started before the call is confirmed or failed.</summary>
    Task FlushAsync(CancellationToken cancellationToken = default);
}
