using System.Diagnostics;
using Granary.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Granary.Samples.Snippets;

/// <summary>README: Observability (metrics and tracing through OpenTelemetry).</summary>
public static class Observability
{
    private static readonly ActivitySource MySource = new("MyApp");

    /// <summary>The Granary meters in the application's own OpenTelemetry pipeline.</summary>
    public static void AddMetrics(IHostApplicationBuilder builder)
    {
        // <otel-metrics>
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter("Granary", "Microsoft.Orleans").AddPrometheusExporter());
        // </otel-metrics>
    }

    /// <summary>Traces of sends and handled messages.</summary>
    public static void AddTracing(IHostApplicationBuilder builder)
    {
        // <otel-tracing>
        builder.Services.AddOpenTelemetry().WithTracing(t => t
            .AddSource(GranaryTracing.SourceName)   // "Granary"
            .AddOtlpExporter());                     // or any exporter
        // </otel-tracing>
    }

    /// <summary>A manual consumer that continues the producer's trace.</summary>
    public static async Task ConsumeTracedAsync(GranaryConsumer consumer, CancellationToken ct)
    {
        // <manual-consumer-tracing>
        await foreach (var message in consumer.ReadAllAsync(ct))
        {
            var producer = GranaryTracing.ExtractContext(message);   // ActivityContext?, null when untraced
            using var activity = MySource.StartActivity($"process {message.Topic}", ActivityKind.Consumer,
                parentContext: producer ?? default, links: producer is { } p ? [new ActivityLink(p)] : null);
            await HandleAsync(message, ct);
            await message.AckAsync(ct);
        }
        // </manual-consumer-tracing>
    }

    private static Task HandleAsync(ReceivedMessage message, CancellationToken cancellationToken) => Task.CompletedTask;
}
