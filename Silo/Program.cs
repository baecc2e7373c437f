using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

// Host wiring only. Configuration comes from appsettings.json, environment variables and the command line
// (Granary:* keys, e.g. --Granary:GatewayPort=30001).
var builder = Host.CreateApplicationBuilder(args);
var granary = builder.Configuration.GetSection("Granary");
int siloPort = granary.GetValue("SiloPort", 11111);
int gatewayPort = granary.GetValue("GatewayPort", 30000);

builder.UseOrleans(silo => silo.UseLocalhostClustering(siloPort, gatewayPort));

await builder.Build().RunAsync();
