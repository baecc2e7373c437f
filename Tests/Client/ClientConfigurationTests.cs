using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Tests.Client;

/// <summary>Client options bound from configuration, checked when the host starts, connected without blocking (issue 20, item 4c).</summary>
public sealed class ClientConfigurationTests
{
    [Fact]
    public void AddGranaryClient_Configuration_BindsEveryKindOfSetting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Granary:Client:Gateways:0"] = "10.0.0.1:30000",
            ["Granary:Client:Gateways:1"] = "10.0.0.2:30000",
            ["Granary:Client:ClusterId"] = "prod",
            ["Granary:Client:ConnectTimeout"] = "00:00:05",
            ["Granary:Client:RetryRefusedConnections"] = "true",
            ["Granary:Client:Tls:Enabled"] = "true",
            ["Granary:Client:Tls:TargetHost"] = "granary.example",
        }).Build();
        var services = new ServiceCollection();
        services.AddGranaryClient(configuration.GetSection("Granary:Client"), o => o.ServiceId = "set-in-code");
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<GranaryClientOptions>>().Value;
        Assert.Equal(["10.0.0.1:30000", "10.0.0.2:30000"], options.Gateways);
        Assert.Equal("prod", options.ClusterId);
        Assert.Equal("set-in-code", options.ServiceId);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ConnectTimeout);
        Assert.True(options.RetryRefusedConnections);
        Assert.True(options.Tls.Enabled);
        Assert.Equal("granary.example", options.Tls.TargetHost);
    }

    [Fact]
    public async Task AddGranaryClient_InvalidConfiguration_FailsTheHostStart_NamingTheSetting()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Granary:Client:Gateways:0"] = "127.0.0.1:30000",
            ["Granary:Client:ResponseTimeout"] = "00:00:01", // below the 2 s minimum
        });
        builder.Services.AddGranaryClient(builder.Configuration.GetSection("Granary:Client"));
        using var host = builder.Build();

        // At start, before any connect: the validation, not a connection failure.
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("ResponseTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddGranaryClient_BeforeTheHostStarted_ResolvingTheClientDoesNotBlock_AndTheProviderConnectsAsynchronously()
    {
        var services = new ServiceCollection();
        services.AddGranaryClient(o => o.Gateways = ["127.0.0.1:1"]);
        await using var provider = services.BuildServiceProvider();

        // Before: this blocked the calling thread on the connection (and here failed only then).
        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<GranaryClient>());
        Assert.Contains("IGranaryClientProvider", error.Message, StringComparison.Ordinal);
        var clients = provider.GetRequiredService<IGranaryClientProvider>();
        Assert.Null(clients.Connected);
        var refused = await Assert.ThrowsAsync<GranaryException>(() => clients.GetClientAsync());
        Assert.Equal(GranaryErrorCode.PartitionUnavailable, refused.Code);
    }

    [Fact]
    public void AddGranaryClient_TakesTheHostsLoggerFactory_UnlessOneIsSet()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGranaryClient(o => o.Gateways = ["127.0.0.1:30000"]);
        using var provider = services.BuildServiceProvider();

        Assert.Same(provider.GetRequiredService<ILoggerFactory>(), provider.GetRequiredService<IOptions<GranaryClientOptions>>().Value.LoggerFactory);
    }
}
