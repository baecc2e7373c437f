using Granary.Client;
using Granary.Client.Serialization;
using Granary.Samples.Worker;

// <worker-host>
var builder = Host.CreateApplicationBuilder(args);

builder.Services.AddGranaryClient(options =>
    options.Gateways = [builder.Configuration["Granary:Gateway"] ?? "127.0.0.1:30000"]);

// Optional: source-generated JSON for OrderPlaced (without it, reflection-based JSON with web defaults is used).
builder.Services.AddSingleton<IMessageSerializer<OrderPlaced>>(new JsonMessageSerializer<OrderPlaced>(SampleJsonContext.Default.OrderPlaced));

// Before the consumers: it creates the topic they read.
builder.Services.AddHostedService<TopicSetup>();

// One message at a time per key, up to 8 in parallel; failed messages come back after 1 s, 2 s, 4 s ... (with jitter).
builder.Services.AddGranaryConsumer<OrderPlaced, OrderPlacedHandler>(TopicSetup.Topic, "billing",
    handler: h => h.MaxConcurrency = 8);

// The same topic for another group, in batches of up to 100.
builder.Services.AddGranaryBatchConsumer<OrderPlaced, OrderBatchHandler>(TopicSetup.Topic, "archive",
    batch: b => b.MaxBatchSize = 100);

if (builder.Configuration.GetValue("Samples:PublishDemoOrders", true))
    builder.Services.AddHostedService<DemoOrderPublisher>();

await builder.Build().RunAsync();
// </worker-host>
