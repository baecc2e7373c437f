using Granary.Grains.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Granary.Silo.Telemetry;

/// <summary>
/// OpenTelemetry for a silo: the broker's <c>Granary</c> meter (and Orleans' own) exported in the Prometheus text
/// format. In the host, not in <c>Grains</c>, so that the broker itself depends only on <c>System.Diagnostics.Metrics</c>.
/// </summary>
public static class GranaryTelemetryExtensions
{
    /// <summary>Name of Orleans' meter (messaging, activations, grain calls).</summary>
    public const string OrleansMeterName = "Microsoft.Orleans";

    /// <summary>
    /// Name of .NET's own meter (GC, heap, thread pool, CPU; e.g. <c>dotnet.gc.heap.total_allocated</c>, which the load
    /// test reads for the silo's bytes allocated per message).
    /// </summary>
    public const string RuntimeMeterName = "System.Runtime";

    /// <summary>
    /// Registers OpenTelemetry metrics for the <see cref="GranaryMetrics.MeterName"/> meter and .NET's
    /// <see cref="RuntimeMeterName"/>, plus <see cref="OrleansMeterName"/> when <paramref name="includeOrleansMetrics"/> (the default), with the Prometheus
    /// exporter; serve them with <see cref="MapGranaryMetrics"/>. Returns the OpenTelemetry builder, so the host can
    /// add tracing or other exporters to the same pipeline.
    /// </summary>
    public static IOpenTelemetryBuilder AddGranaryTelemetry(this IServiceCollection services, bool includeOrleansMetrics = true)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics.AddMeter(GranaryMetrics.MeterName, RuntimeMeterName);
            if (includeOrleansMetrics) metrics.AddMeter(OrleansMeterName);
            metrics.AddPrometheusExporter();
        });
    }

    /// <summary>Serves the metrics registered by <see cref="AddGranaryTelemetry"/> for Prometheus to scrape at <paramref name="path"/>.</summary>
    public static IEndpointConventionBuilder MapGranaryMetrics(this IEndpointRouteBuilder endpoints, string path = "/metrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapPrometheusScrapingEndpoint(path);
    }
}
