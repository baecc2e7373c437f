using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Granary.Tests.Client;

/// <summary>Health checks for the client connection and the hosted consumers (issue 20, item 4d).</summary>
[Collection(BrokerCluster.Name)]
[Trait("Category", "Integration")]
public sealed class HealthCheckTests(BrokerClusterFixture fixture)
{
    [Fact]
    public async Task ClientCheck_NotConnected_IsUnhealthy()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGranaryClient(o => o.Gateways = ["127.0.0.1:1"]);
        services.AddHealthChecks().AddGranary();
        await using var provider = services.BuildServiceProvider();

        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, report.Entries["granary-client"].Status);
        Assert.Equal(HealthStatus.Healthy, report.Entries["granary-consumers"].Status); // none registered
    }

    [Fact]
    public async Task Checks_ConnectedClientAndRunningConsumer_AreHealthy_AndAFailedConsumerIsUnhealthy()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await fixture.Client.Admin.CreateTopicAsync(topic);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.Ignore);
        builder.Services.AddGranaryClient(fixture.Client)
            .AddGranaryConsumer<Handler>(topic, "healthy")
            .AddGranaryConsumer<Handler>(BrokerClusterFixture.UniqueTopic("missing"), "broken"); // no such topic: fails
        builder.Services.AddHealthChecks().AddGranary(tags: ["ready"]);
        using var host = builder.Build();
        var health = host.Services.GetRequiredService<HealthCheckService>();

        await host.StartAsync();
        try
        {
            var client = await health.CheckHealthAsync(r => r.Name == "granary-client");
            Assert.Equal(HealthStatus.Healthy, client.Status);
            HealthReport consumers = null!;
            await Eventually.UntilAsync(async () =>
            {
                consumers = await health.CheckHealthAsync(r => r.Name == "granary-consumers");
                return consumers.Status == HealthStatus.Unhealthy && Equals(consumers.Entries["granary-consumers"].Data[$"{topic}/healthy"], "Running");
            });
            var entry = consumers.Entries["granary-consumers"];
            Assert.Contains("broken", entry.Description, StringComparison.Ordinal);
            Assert.Equal(GranaryErrorCode.TopicNotFound, Assert.IsType<GranaryException>(entry.Exception).Code);
            Assert.Equal("Running", entry.Data[$"{topic}/healthy"]);
            Assert.Contains("ready", entry.Tags);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private sealed class Handler : IMessageHandler
    {
        public Task HandleAsync(ReceivedMessage message, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
