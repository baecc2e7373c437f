namespace Granary.Client;

/// <summary>
/// Handles the messages of a hosted consumer (<see cref="GranaryServiceCollectionExtensions.AddGranaryConsumer{THandler}"/>).
/// Resolved from a new dependency-injection scope for each message, so it may take scoped services.
/// </summary>
public interface IMessageHandler
{
    /// <summary>
    /// Handles one message. Returning acknowledges it; throwing has it delivered again after
    /// <see cref="HandlerOptions.RetryDelay"/>. <paramref name="cancellationToken"/> is cancelled when the host stops.
    /// </summary>
    Task HandleAsync(ReceivedMessage message, CancellationToken cancellationToken);
}
