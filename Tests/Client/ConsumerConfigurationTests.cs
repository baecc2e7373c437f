using Granary.Client.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Tests.Client;

/// <summary>Hosted consumers' options bound from configuration and checked when the host starts (issue 20, item 4c).</summary>
public sealed class ConsumerConfigurationTests
{
    public sealed record Order(string Id);

    private sealed class OrderHandler : IMessageHandler<Order>
    {
        public Task HandleAsync(ReceivedMessage<Order> message, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class OrderBatchHandler : IBatchMessageHandler<Order>
    {
        public Task HandleAsync(IReadOnlyList<ReceivedMessage<Order>> batch, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class BytesHandler : IMessageHandler
    {
        public Task HandleAsync(ReceivedMessage message, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    [Fact]
    public void AddGranaryConsumer_Configuration_BindsTheConsumerAndHandlerOptions_ThenAppliesTheCode()
    {
        var configuration = Configuration(new()
        {
            ["Granary:Consumers:Billing:Consumer:MaxPrefetch"] = "64",
            ["Granary:Consumers:Billing:Consumer:AckTimeout"] = "00:02:00",
            ["Granary:Consumers:Billing:Consumer:Mode"] = "KeyShared",
            ["Granary:Consumers:Billing:Handler:MaxConcurrency"] = "4",
            ["Granary:Consumers:Billing:Handler:RetryBackoff"] = "Constant",
            ["Granary:Consumers:Audit:Consumer:MaxPrefetch"] = "8",
            ["Granary:Consumers:Audit:Handler:MaxConcurrency"] = "2",
        });
        var services = new ServiceCollection().AddLogging();
        services.AddGranaryClient(o => o.Gateways = ["127.0.0.1:30000"]);
        services.AddGranaryConsumer<Order, OrderHandler>("orders", "billing", configuration.GetSection("Granary:Consumers:Billing"),
            c => c.DeadLetterTopic = "orders-dead");
        // The same handler type on a second group: options of their own.
        services.AddGranaryConsumer<Order, OrderHandler>("orders", "audit", configuration.GetSection("Granary:Consumers:Audit"));
        services.AddGranaryConsumer<BytesHandler>("raw", "archive", configuration.GetSection("Granary:Consumers:Audit"));
        using var provider = services.BuildServiceProvider();

        var typed = provider.GetServices<IHostedService>().OfType<TypedConsumerService<Order, OrderHandler>>().Select(s => s.Registration).ToList();
        var billing = Assert.Single(typed, r => r.Group == "billing");
        Assert.Equal(64, billing.Consumer.MaxPrefetch);
        Assert.Equal(TimeSpan.FromMinutes(2), billing.Consumer.AckTimeout);
        Assert.Equal(DeliveryMode.KeyShared, billing.Consumer.Mode);
        Assert.Equal("orders-dead", billing.Consumer.DeadLetterTopic);
        Assert.Equal(4, billing.Handler!.MaxConcurrency);
        Assert.Equal(HandlerRetryBackoff.Constant, billing.Handler.RetryBackoff);
        var audit = Assert.Single(typed, r => r.Group == "audit");
        Assert.Equal(8, audit.Consumer.MaxPrefetch);
        Assert.Null(audit.Consumer.DeadLetterTopic);
        Assert.Equal(2, audit.Handler!.MaxConcurrency);
        var bytes = provider.GetServices<IHostedService>().OfType<GranaryConsumerService<BytesHandler>>().Single().Registration;
        Assert.Equal(("raw", "archive", 8, 2), (bytes.Topic, bytes.Group, bytes.Consumer.MaxPrefetch, bytes.Handler.MaxConcurrency));
    }

    [Fact]
    public void AddGranaryBatchConsumer_Configuration_BindsTheBatchOptions()
    {
        var configuration = Configuration(new()
        {
            ["Consumer:MaxPrefetch"] = "500",
            ["Batch:MaxBatchSize"] = "250",
            ["Batch:MaxBatchWait"] = "00:00:00.5",
        });
        var services = new ServiceCollection().AddLogging();
        services.AddGranaryClient(o => o.Gateways = ["127.0.0.1:30000"]);
        services.AddGranaryBatchConsumer<Order, OrderBatchHandler>("orders", "warehouse", configuration, batch: b => b.RetryDelay = TimeSpan.FromSeconds(3));
        using var provider = services.BuildServiceProvider();

        var registration = provider.GetServices<IHostedService>().OfType<TypedConsumerService<Order, OrderBatchHandler>>().Single().Registration;
        Assert.Equal(500, registration.Consumer.MaxPrefetch);
        Assert.Null(registration.Handler);
        Assert.Equal(250, registration.Batch!.MaxBatchSize);
        Assert.Equal(TimeSpan.FromMilliseconds(500), registration.Batch.MaxBatchWait);
        Assert.Equal(TimeSpan.FromSeconds(3), registration.Batch.RetryDelay);
    }

    [Theory]
    [InlineData("Handler:MaxConcurrency", "0", "MaxConcurrency")]
    [InlineData("Consumer:PollWait", "00:01:00", "PollWait")]
    public async Task AddGranaryConsumer_InvalidConfiguration_FailsTheHostStart_NamingTheSetting(string key, string value, string named)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [$"Granary:Consumers:Billing:{key}"] = value });
        // Nothing listens at this gateway: a start that got as far as connecting would fail differently.
        builder.Services.AddGranaryClient(o => o.Gateways = ["127.0.0.1:1"]);
        builder.Services.AddGranaryConsumer<Order, OrderHandler>("orders", "billing", builder.Configuration.GetSection("Granary:Consumers:Billing"));
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.Contains("orders/billing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddGranaryBatchConsumer_InvalidConfiguration_FailsTheHostStart()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Warehouse:Batch:MaxBatchSize"] = "-1" });
        builder.Services.AddGranaryClient(o => o.Gateways = ["127.0.0.1:1"]);
        builder.Services.AddGranaryBatchConsumer<Order, OrderBatchHandler>("orders", "warehouse", builder.Configuration.GetSection("Warehouse"));
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("MaxBatchSize", error.Message, StringComparison.Ordinal);
    }
}
