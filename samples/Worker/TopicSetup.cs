using Granary.Client;

namespace Granary.Samples.Worker;

/// <summary>
/// Creates the sample's topic when the host starts, before the consumers (hosted services start in registration
/// order): a consumer of a topic that does not exist stops with TopicNotFound. In production topics are usually
/// created by deployment (the granary CLI) instead.
/// </summary>
public sealed class TopicSetup(GranaryClient client) : IHostedService
{
    public const string Topic = "orders";

    public Task StartAsync(CancellationToken cancellationToken) =>
        client.Admin.CreateTopicIfMissingAsync(Topic, new TopicOptions { Partitions = 4 });

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
