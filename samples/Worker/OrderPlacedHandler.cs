using Granary.Client;

namespace Granary.Samples.Worker;

// <typed-handler>
/// <summary>
/// Handles one order. Resolved from a new DI scope per message (it may take scoped services such as a DbContext).
/// Returning acknowledges the message; throwing has it delivered again with exponential backoff; a payload that is
/// not an <see cref="OrderPlaced"/> never gets here: it is dead-lettered with reason "deserialization".
/// </summary>
public sealed partial class OrderPlacedHandler(ILogger<OrderPlacedHandler> logger) : IMessageHandler<OrderPlaced>
{
    public Task HandleAsync(ReceivedMessage<OrderPlaced> message, CancellationToken cancellationToken)
    {
        var order = message.Value;
        LogBilled(logger, order.OrderId, order.Customer, order.Total, message.DeliveryAttempt);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Billed order {OrderId} of {Customer}: {Total} (delivery {Attempt})")]
    private static partial void LogBilled(ILogger logger, string orderId, string customer, decimal total, int attempt);
}
// </typed-handler>
