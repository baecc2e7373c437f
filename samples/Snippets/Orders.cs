using Granary.Client;

namespace Granary.Samples.Snippets;

// The types the snippets name (the README shows them in samples/Worker); small here so the snippets compile.

/// <summary>An order, as JSON on the wire.</summary>
public sealed record OrderPlaced(string OrderId, string Customer, decimal Total);

/// <summary>Handles one order; returning acks it.</summary>
public sealed class OrderPlacedHandler : IMessageHandler<OrderPlaced>
{
    /// <inheritdoc />
    public Task HandleAsync(ReceivedMessage<OrderPlaced> message, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Handles orders a batch at a time; returning acks the batch.</summary>
public sealed class OrderBatchHandler : IBatchMessageHandler<OrderPlaced>
{
    /// <inheritdoc />
    public Task HandleAsync(IReadOnlyList<ReceivedMessage<OrderPlaced>> batch, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The application's own billing service, which the handler snippets call.</summary>
public interface IBillingService
{
    /// <summary>Charges the order <paramref name="orderId"/> described by <paramref name="order"/>.</summary>
    Task ChargeAsync(string orderId, ReadOnlyMemory<byte> order, CancellationToken cancellationToken);
}
