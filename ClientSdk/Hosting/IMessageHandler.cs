namespace Granary.Client;

/// <summary>
/// Handles the messages of a hosted consumer (<see cref="GranaryServiceCollectionExtensions.AddGranaryConsumer{THandler}"/>).
/// Resolved from a new dependency-injection scope for each message, so it may take scoped services.
/// </summary>
public interface IMessageHandler
{
    /// <summary>
    /// Handles one message. Returning acknowledges it; throwing has it delivered again after the retry backoff
    /// (<see cref="HandlerOptions.RetryDelay"/>, doubling with jitter per attempt under the default
    /// <see cref="HandlerOptions.RetryBackoff"/>). <paramref name="cancellationToken"/> is cancelled when the host stops.
    /// </summary>
    Task HandleAsync(ReceivedMessage message, CancellationToken cancellationToken);
}
