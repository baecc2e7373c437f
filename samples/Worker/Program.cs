using Granary.Client;
using Granary.Client.Serialization;
using Granary.Samples.Worker;

// <worker-host>
var builder = Host.CreateApplicationBuilder(args);

builder.Services.AddGranaryClient(options =>
    options.Gateways = [builder.Configuration["Granary:Gateway"] ?? "localhost:30000"]);

// Optional: source-generated JSON for OrderPlaced (without it, reflection-based JSON with web defaults is used).
builder.Services.AddSingleton<IMessageSerializer<OrderPlaced>>(new JsonMessageSerializer<OrderPlaced>(SampleJsonContext.Default.OrderPlaced));

// One message at a time per key, up to 8 in parallel; failed messages come back after 1 s, 2 s, 4 s ... (with jitter).
builder.Services.AddGranaryConsumer<OrderPlaced, OrderPlacedHandler>("orders", "billing",
    handler: h => h.MaxConcurrency = 8);

// The same topic for another group, in batches of up to 100.
builder.Services.AddGranaryBatchConsumer<OrderPlaced, OrderBatchHandler>("orders", "archive",
    batch: b => b.MaxBatchSize = 100);

await builder.Build().RunAsync();
// </worker-host>
