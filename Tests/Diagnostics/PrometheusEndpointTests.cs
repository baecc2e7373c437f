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
        await using var metrics = await MetricsEndpoint.StartAsync();

        GranaryMetrics.RecordStored(topic, messages: 3, payloadBytes: 120);
        GranaryMetrics.RecordAppendDuration(topic, System.Diagnostics.Stopwatch.GetTimestamp());

        var (text, lines) = await metrics.ScrapeUntilTopicShowsAsync(topic);
        Assert.Contains(lines, l => l.StartsWith("granary_messages_in_total{", StringComparison.Ordinal) && l.Split(' ')[1] == "3");
        Assert.Contains(lines, l => l.StartsWith("granary_bytes_in_bytes_total{", StringComparison.Ordinal) && l.Split(' ')[1] == "120");
        Assert.Contains(lines, l => l.StartsWith("granary_append_duration_seconds_count{", StringComparison.Ordinal) && l.Split(' ')[1] == "1");
        Assert.Contains("# TYPE granary_messages_in_total counter", text, StringComparison.Ordinal);
    }
}
