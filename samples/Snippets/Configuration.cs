using Granary.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Granary.Samples.Snippets;

/// <summary>README: Configuration and DI.</summary>
public static class Configuration
{
    /// <summary>The client, its options bound from configuration, and its health checks.</summary>
    public static void AddClient(IHostApplicationBuilder builder)
    {
        // <client-configuration>
        // appsettings.json: { "Granary": { "Client": { "Gateways": [ "10.0.0.1:30000" ], "ClusterId": "prod", "ConnectTimeout": "00:00:10" } } }
        builder.Services.AddGranaryClient(builder.Configuration.GetSection("Granary:Client"));
        builder.Services.AddHealthChecks().AddGranary();
        // </client-configuration>
    }

    /// <summary>Hosted consumers whose options come from configuration.</summary>
    public static void AddConsumers(IHostApplicationBuilder builder)
    {
        // <consumers-configuration>
        builder.Services.AddGranaryConsumer<OrderPlaced, OrderPlacedHandler>("orders", "billing",
            builder.Configuration.GetSection("Granary:Consumers:Billing"));
        builder.Services.AddGranaryBatchConsumer<OrderPlaced, OrderBatchHandler>("orders", "warehouse",
            builder.Configuration.GetSection("Granary:Consumers:Warehouse"));
        // </consumers-configuration>
    }
}
