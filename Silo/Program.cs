using Granary.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

// Host wiring only. Configuration comes from appsettings.json, environment variables and the command line
// (Granary:* keys, e.g. --Granary:GatewayPort=30001 or Granary__GatewayPort=30001).
var builder = Host.CreateApplicationBuilder(args);
var granary = builder.Configuration.GetSection(GranaryOptions.SectionName);

builder.UseOrleans(silo => silo
    .UseLocalhostClustering(
        siloPort: granary.GetValue("SiloPort", 11111),
        gatewayPort: granary.GetValue("GatewayPort", 30000),
        serviceId: granary.GetValue("ServiceId", "granary")!,
        clusterId: granary.GetValue("ClusterId", "granary")!)
    .AddGranary());

// Ctrl+C or SIGTERM stops the silo: grains deactivate and every partition log is flushed and closed.
await builder.Build().RunAsync();
