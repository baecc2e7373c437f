using Granary.LoadTest.Cli;
using Granary.LoadTest.Reporting;
using Granary.Silo.Telemetry;
using Granary.Tests.Broker;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Tests.LoadTest;

/// <summary>
/// The load test reads a silo's allocated bytes from the System.Runtime meter the silo exports at /metrics. The
/// counter is the whole test process's, so the class runs alone: beside the parallel suite it once read 438 MB for
/// the test's 64 (bound 320).
/// </summary>
[Collection(AllocationMeasurement.Name)]
public sealed class SiloAllocationProbeTests
{
    [Fact]
    public void Parse_TakesTheCountersValue_WithOrWithoutLabels_AndIgnoresOtherSeries()
    {
        const string text = """
            # TYPE dotnet_gc_heap_total_allocated_bytes_total counter
            # UNIT dotnet_gc_heap_total_allocated_bytes_total bytes
            dotnet_gc_heap_total_allocated_bytes_total{otel_scope_name="System.Runtime"} 1.2345678912e+09 1733490000000
            dotnet_gc_heap_total_allocated_bytes_total_extra 99
            granary_messages_in_total{topic="t"} 3
            """;

        Assert.Equal(1_234_567_891, SiloAllocationProbe.Parse(text));
        Assert.Equal(42, SiloAllocationProbe.Parse("dotnet_gc_heap_total_allocated_bytes_total 42\n"));
        Assert.Null(SiloAllocationProbe.Parse("orleans_catalog_activations 3\ndotnet_gc_heap_total_allocated_bytes_total_extra 99\n"));
    }

    [Fact]
    public async Task AgainstTheSilosMetricsEndpoint_TheFigureRises_ByWhatTheProcessAllocated()
    {
        await using var metrics = await MetricsEndpoint.StartAsync(); // as the silo registers it
        using var probe = new SiloAllocationProbe(metrics.Url, apiKey: null) { Settle = TimeSpan.FromMilliseconds(500) };

        await probe.StartAsync(TestContext.Current.CancellationToken);
        const int allocated = 64 << 20;
        var kept = new List<byte[]>();
        for (int i = 0; i < 64; i++) kept.Add(new byte[1 << 20]);
        GC.KeepAlive(kept);
        var figure = await probe.StopAsync(messages: 1000, TestContext.Current.CancellationToken);

        Assert.NotNull(figure);
        Assert.InRange(figure.Bytes, allocated, allocated + (256L << 20)); // plus the test host's and the scrapes' own
        Assert.Equal(figure.Bytes / 1000.0, figure.BytesPerMessage);
    }

    [Fact]
    public void SiloMetricsOption_GoesToTheTarget_AndIsRefusedWithAnEmbeddedSilo()
    {
        var parse = LoadTestCommands.Build(TextWriter.Null).Parse("produce --topic T --messages 5 --silo-metrics http://127.0.0.1:30080/metrics");
        Assert.Empty(parse.Errors);
        Assert.Equal(new Uri("http://127.0.0.1:30080/metrics"), LoadTestCommands.ToTarget(parse).SiloMetrics);
        Assert.Null(LoadTestCommands.ToTarget(LoadTestCommands.Build(TextWriter.Null).Parse("produce --topic T --messages 5")).SiloMetrics);

        var embedded = LoadTestCommands.Build(TextWriter.Null).Parse("consume --topic T --group g --messages 5 --embedded --silo-metrics http://127.0.0.1:1/metrics");
        Assert.Throws<ArgumentException>(() => LoadTestCommands.ToTarget(embedded));
    }
}
