using Granary.Grains.Diagnostics;
using Granary.Silo.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Tests.Diagnostics;

/// <summary>AddGranaryTelemetry + MapGranaryMetrics serve the Granary meter in the Prometheus text format.</summary>
public sealed class PrometheusEndpointTests
{
    [Fact]
    public async Task MetricsEndpoint_ServesTheGranaryInstruments_InPrometheusFormat()
    {
        string topic = $"prometheus-{Guid.NewGuid():N}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddGranaryTelemetry(includeOrleansMetrics: false);
        await using var app = builder.Build();
        app.MapGranaryMetrics();
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };

        GranaryMetrics.RecordStored(topic, messages: 3, payloadBytes: 120);
        GranaryMetrics.RecordAppendDuration(topic, System.Diagnostics.Stopwatch.GetTimestamp());

        string? text = null;
        // The exporter caches a scrape briefly: ask until the new series shows.
        await Eventually.UntilAsync(async () =>
        {
            text = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            return text.Contains($"topic=\"{topic}\"", StringComparison.Ordinal);
        });
        var lines = text!.Split('\n').Where(l => l.Contains($"topic=\"{topic}\"", StringComparison.Ordinal)).ToList();
        Assert.Contains(lines, l => l.StartsWith("granary_messages_in_total{", StringComparison.Ordinal) && l.Split(' ')[1] == "3");
        Assert.Contains(lines, l => l.StartsWith("granary_bytes_in_bytes_total{", StringComparison.Ordinal) && l.Split(' ')[1] == "120");
        Assert.Contains(lines, l => l.StartsWith("granary_append_duration_seconds_count{", StringComparison.Ordinal) && l.Split(' ')[1] == "1");
        Assert.Contains("# TYPE granary_messages_in_total counter", text, StringComparison.Ordinal);
        await app.StopAsync();
    }
}
