using Granary.Client;
using Microsoft.Extensions.Hosting;

namespace Granary.Samples.Snippets;

/// <summary>README: Handlers: parallel, in order per key.</summary>
public sealed class BillingWorker(IGranaryClientProvider clients, IBillingService billing) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Hosted services are built before the client is connected: ask for it when running.
        var client = await clients.GetClientAsync(stoppingToken);
        // <handler-run>
        await using var consumer = client.CreateConsumer("orders", "billing", new ConsumerOptions { Mode = DeliveryMode.KeyShared });
        await consumer.RunAsync(async (message, ct) =>
        {
            await billing.ChargeAsync(message.Key!, message.Payload, ct);   // return: ack; throw: nack, retried later
        }, new HandlerOptions { MaxConcurrency = 32, RetryDelay = TimeSpan.FromSeconds(5) }, stoppingToken);   // 5 s, 10 s, 20 s ... with jitter
        // </handler-run>
    }
}
