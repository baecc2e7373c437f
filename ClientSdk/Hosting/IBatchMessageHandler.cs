namespace Granary.Client;

/// <summary>
/// Handles the typed messages of a hosted consumer a batch at a time
/// (<see cref="TypedConsumerServiceCollectionExtensions.AddGranaryBatchConsumer{T, THandler}"/>), for work that is
/// cheaper in bulk (one database insert for many messages). Resolved from a new dependency-injection scope per batch.
/// </summary>
/// <typeparam name="T">The message type.</typeparam>
public interface IBatchMessageHandler<T>
{
    /// <summary>
    /// Handles a batch (at least one message, at most <see cref="BatchHandlerOptions.MaxBatchSize"/>). Returning
    /// acknowledges every message of it that the handler did not settle itself, in one broker call per partition;
    /// throwing has them all delivered again after the retry backoff. Messages whose payload cannot be deserialized
    /// are dead-lettered with reason <c>deserialization</c> and left out of the batch.
    /// </summary>
    Task HandleAsync(IReadOnlyList<ReceivedMessage<T>> batch, CancellationToken cancellationToken);
}
