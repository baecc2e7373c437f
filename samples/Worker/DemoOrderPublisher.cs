using Granary.Client;
using Granary.Client.Serialization;

namespace Granary.Samples.Worker;

// <typed-producer>
/// <summary>Sends an order every second, so the sample has something to consume (Samples:PublishDemoOrders=false turns it off).</summary>
public sealed class DemoOrderPublisher(IGranaryClientProvider clients, IMessageSerializer<OrderPlaced> serializer) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var client = await clients.GetClientAsync(stoppingToken);
        await using var producer = client.CreateProducer(TopicSetup.Topic, serializer: serializer);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        for (int n = 1; await timer.WaitForNextTickAsync(stoppingToken); n++)
        {
            var order = new OrderPlaced($"order-{n}", $"customer-{n % 3}", 10m * n);
            // The key keeps one customer's orders in order; the send completes once the order is stored.
            await producer.SendAsync(order, key: order.Customer, stoppingToken);
        }
    }
}
// </typed-producer>
