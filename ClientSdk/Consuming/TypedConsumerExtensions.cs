using System.Runtime.CompilerServices;
using Granary.Client.Internal;
using Granary.Client.Serialization;

namespace Granary.Client;

/// <summary>Typed consuming on top of the byte-level <see cref="GranaryConsumer"/>.</summary>
public static class TypedConsumerExtensions
{
    /// <summary>
    /// As <see cref="GranaryConsumer.RunAsync(Func{ReceivedMessage, CancellationToken, Task}, HandlerOptions?, CancellationToken)"/>,
    /// with each payload deserialized to <typeparamref name="T"/> by <paramref name="serializer"/> (null: JSON with
    /// web defaults). A message that cannot be deserialized, or whose content type header is not the serializer's,
    /// is not handed to <paramref name="handler"/>: it is dead-lettered with reason <c>deserialization</c>, logged
    /// as a warning, and the run goes on.
    /// </summary>
    /// <exception cref="GranaryException">The consumer's fatal error (for example <see cref="GranaryErrorCode.TopicNotFound"/>).</exception>
    public static Task RunAsync<T>(this GranaryConsumer consumer, Func<ReceivedMessage<T>, CancellationToken, Task> handler,
        HandlerOptions? options = null, IMessageSerializer<T>? serializer = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        ArgumentNullException.ThrowIfNull(handler);
        var typedSerializer = serializer ?? new JsonMessageSerializer<T>();
        return consumer.RunAsync(async (message, ct) =>
        {
            if (await TypedDelivery<T>.ReadAsync(message, typedSerializer).ConfigureAwait(false) is { } typed)
                await handler(typed, ct).ConfigureAwait(false);
        }, options, cancellationToken);
    }

    /// <summary>
    /// As <see cref="GranaryConsumer.ReadAllAsync"/>, with each payload deserialized to <typeparamref name="T"/>. A
    /// message that cannot be deserialized is dead-lettered with reason <c>deserialization</c> and not yielded.
    /// Acknowledge each yielded message (<c>message.Message.AckAsync()</c>).
    /// </summary>
    public static async IAsyncEnumerable<ReceivedMessage<T>> ReadAllAsync<T>(this GranaryConsumer consumer, IMessageSerializer<T>? serializer = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        serializer ??= new JsonMessageSerializer<T>();
        await foreach (var message in consumer.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await TypedDelivery<T>.ReadAsync(message, serializer).ConfigureAwait(false) is { } typed) yield return typed;
        }
    }

    /// <summary>
    /// Reads this consumer's messages in batches of up to <see cref="BatchHandlerOptions.MaxBatchSize"/> (gathered
    /// for at most <see cref="BatchHandlerOptions.MaxBatchWait"/> after the first) and runs <paramref name="handler"/>
    /// on each, one batch at a time. A batch whose handler returns is acknowledged in one broker call per partition
    /// (messages the handler settled itself are left out); one whose handler throws is nacked together, with the
    /// retry backoff. Messages that cannot be deserialized are dead-lettered with reason <c>deserialization</c> and
    /// left out of their batch. Returns when <paramref name="cancellationToken"/> is cancelled (a running batch sees
    /// it and is awaited). Set <see cref="ConsumerOptions.MaxPrefetch"/> at least to the batch size, or batches stay smaller.
    /// </summary>
    /// <exception cref="GranaryException">The consumer's fatal error (for example <see cref="GranaryErrorCode.TopicNotFound"/>).</exception>
    public static Task RunBatchesAsync<T>(this GranaryConsumer consumer, Func<IReadOnlyList<ReceivedMessage<T>>, CancellationToken, Task> handler,
        BatchHandlerOptions? options = null, IMessageSerializer<T>? serializer = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        ArgumentNullException.ThrowIfNull(handler);
        options = options?.Clone() ?? new BatchHandlerOptions();
        options.Validate();
        return new BatchHandlerRunner<T>(consumer, handler, options, serializer ?? new JsonMessageSerializer<T>()).RunAsync(cancellationToken);
    }
}
