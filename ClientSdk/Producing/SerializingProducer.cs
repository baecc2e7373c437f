using System.Text;
using Granary.Client.Serialization;
using Granary.Grains;

namespace Granary.Client.Internal;

/// <summary>
/// <see cref="IProducer{T}"/> over a <see cref="GranaryProducer"/>: serializes, adds the content type header, sends.
/// Disposes the producer when it owns it (made by <see cref="TypedProducerExtensions.CreateProducer{T}(GranaryClient, string, ProducerOptions?, IMessageSerializer{T}?)"/>).
/// </summary>
internal sealed class SerializingProducer<T>(GranaryProducer producer, IMessageSerializer<T> serializer, bool ownsProducer) : IProducer<T>
{
    private readonly byte[] _contentType = Encoding.UTF8.GetBytes(serializer.ContentType);

    public string Topic => producer.Topic;

    public Task<SendReceipt> SendAsync(T value, string? key = null, CancellationToken cancellationToken = default) =>
        producer.SendAsync(ToOutgoing(value, key, serializer, _contentType), cancellationToken);

    public Task<SendReceipt> SendAsync(OutgoingMessage<T> message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return producer.SendAsync(ToOutgoing(message, serializer, _contentType), cancellationToken);
    }

    public Task FlushAsync(CancellationToken cancellationToken = default) => producer.FlushAsync(cancellationToken);

    public ValueTask DisposeAsync() => ownsProducer ? producer.DisposeAsync() : ValueTask.CompletedTask;

    internal static OutgoingMessage ToOutgoing(T value, string? key, IMessageSerializer<T> serializer, byte[] contentType) =>
        new(serializer.Serialize(value))
        {
            Key = key,
            Headers = new Dictionary<string, byte[]>(1, StringComparer.Ordinal) { [GranaryHeaders.ContentType] = contentType },
        };

    internal static OutgoingMessage ToOutgoing(OutgoingMessage<T> message, IMessageSerializer<T> serializer, byte[] contentType) =>
        new(serializer.Serialize(message.Value))
        {
            Key = message.Key,
            Headers = WithContentType(message.Headers, contentType),
            Partition = message.Partition,
            TimeToLive = message.TimeToLive,
            DeliverAt = message.DeliverAt,
            Delay = message.Delay,
            MessageId = message.MessageId,
        };

    private static Dictionary<string, byte[]> WithContentType(IReadOnlyDictionary<string, byte[]>? headers, byte[] contentType)
    {
        var all = new Dictionary<string, byte[]>((headers?.Count ?? 0) + 1, StringComparer.Ordinal);
        if (headers is not null) foreach (var (name, value) in headers) all[name] = value;
        all.TryAdd(GranaryHeaders.ContentType, contentType);
        return all;
    }
}
