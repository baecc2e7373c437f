namespace Granary.Client;

/// <summary>
/// Handles the typed messages of a hosted consumer
/// (<see cref="TypedConsumerServiceCollectionExtensions.AddGranaryConsumer{T, THandler}"/>). Resolved from a new
/// dependency-injection scope for each message, so it may take scoped services. A message whose payload cannot be
/// deserialized never reaches it: it is dead-lettered with reason <c>deserialization</c>.
/// </summary>
/// <typeparam name="T">The message type.</typeparam>
public interface IMessageHandler<T>
{
    /// <summary>
    /// Handles one message. Returning acknowledges it; throwing has it delivered again after the handler's retry
    /// backoff (<see cref="HandlerOptions.RetryDelay"/>). <paramref name="cancellationToken"/> is cancelled when the host stops.
    /// </summary>
    Task HandleAsync(ReceivedMessage<T> message, CancellationToken cancellationToken);
}
