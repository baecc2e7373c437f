using Granary.Client;

namespace Granary.Samples.Worker;

/// <summary>
/// Creates the sample's topic when the host starts, before the consumers (hosted services start in registration
/// order): a consumer of a topic that does not exist stops with TopicNotFound. In production topics are usually
/// created by deployment (the granary CLI) instead.
/// </summary>
public sealed class TopicSetup(IGranaryClientProvider clients) : IHostedService
{
    public const string Topic = "orders";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Hosted services are built before any of them starts, so before the client is connected: ask for it here.
        var client = await clients.GetClientAsync(cancellationToken);
        await client.Admin.CreateTopicIfMissingAsync(Topic, new TopicOptions { Partitions = 4 }, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
