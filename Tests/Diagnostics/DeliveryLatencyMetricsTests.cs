using Granary.Grains.Cursors;
using Granary.Grains.Diagnostics;
using Granary.Grains.Partitions;
using Granary.Records;
using Granary.Silo.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Granary.Tests.Diagnostics;

/// <summary>
/// The consume side's timings (README "Latency budget"): <c>granary.delivery.delay</c> and <c>granary.delivery.age</c>
/// (broker timestamp to pull answer) and <c>granary.fetch.wake</c> (records visible to the long-polling fetch's read).
/// </summary>
public sealed class DeliveryLatencyMetricsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 1, 0, 0, TimeSpan.Zero);

    /// <summary>Four stored messages at 100..103, stamped 900, 700, 950 and 990 ms before <see cref="Now"/>; the last one delayed to 10 ms before it.</summary>
    private static BufferedMessage[] Stored()
    {
        long now = Now.ToUnixTimeMilliseconds();
        long[] stamps = [now - 900, now - 700, now - 950, now - 990];
        var batch = RecordBatchBuilder.Encode(stamps.Select((stamp, i) => new LogRecord(Encoding.UTF8.GetBytes($"m{i}"))
        {
            TimestampMs = stamp,
            DeliverAtMs = i == 3 ? now - 10 : null,
        }));
        RecordBatchCodec.WriteBaseOffset(batch, 100);
        return [.. StoredBatches.Read(batch, 100, 104).Select(r => BufferedMessage.From(r))];
    }

    [Fact]
    public void Record_FirstDeliveriesAndARedelivery_ObservesTheOldestFirstDeliveryOnce_AndSumsTheirAges()
    {
        using var metrics = new MetricsRecorder();
        string topic = $"age-{Guid.NewGuid():N}";
        var time = new FakeTimeProvider(Now);
        // 102 is a redelivery (its age counts earlier leases: left out although the oldest); 103 counts from its
        // deliver-at time, not its stamp.
        LeasedRecord[] leases = [new(100, 1, 1), new(101, 1, 2), new(102, 2, 3), new(103, 1, 4)];

        PullAnswerAge.Record(topic, "g", time, Stored(), leases);

        var delay = Assert.Single(metrics.Of("granary.delivery.delay", topic));
        Assert.Equal(0.900, delay.Value, 9);
        Assert.Equal("g", delay.Tags[GranaryMetrics.GroupTag]);
        Assert.Equal(0.900 + 0.700 + 0.010, metrics.Sum("granary.delivery.age", topic), 9);
        Assert.Equal(3, metrics.Sum("granary.delivery.age.messages", topic));

        // The same pull a second later on the clock: every age a second more.
        time.Advance(TimeSpan.FromSeconds(1));
        PullAnswerAge.Record(topic, "g", time, Stored(), leases);
        Assert.Equal(new[] { 0.900, 1.900 }, metrics.Of("granary.delivery.delay", topic).Select(m => Math.Round(m.Value, 6)));
    }

    [Fact]
    public void Record_RedeliveriesOnly_RecordsNothing()
    {
        using var metrics = new MetricsRecorder();
        string topic = $"age-{Guid.NewGuid():N}";
        var stored = Stored();

        PullAnswerAge.Record(topic, "g", new FakeTimeProvider(Now), stored.AsSpan(0, 2), [new(100, 2, 1), new(101, 3, 2)]);

        Assert.Empty(metrics.Of("granary.delivery.delay", topic));
        Assert.Equal(0, metrics.Sum("granary.delivery.age.messages", topic));
    }

    [Fact]
    public void Record_ClockSetBackSinceTheStamp_ReadsNoDelay_NeverANegativeOne()
    {
        using var metrics = new MetricsRecorder();
        string topic = $"age-{Guid.NewGuid():N}";

        PullAnswerAge.Record(topic, "g", new FakeTimeProvider(Now.AddSeconds(-5)), Stored().AsSpan(0, 1), [new(100, 1, 1)]);

        Assert.Equal(0, Assert.Single(metrics.Of("granary.delivery.delay", topic)).Value);
    }

    [Fact]
    public async Task WaitForSignalAsync_Woken_AnswersTheSignalsTimestamp_TimedOut_AnswersNull()
    {
        var time = new FakeTimeProvider(Now);
        var signal = new AppendSignal(time);
        var wait = signal.WaitForSignalAsync(TimeSpan.FromSeconds(30));
        time.Advance(TimeSpan.FromMilliseconds(5));
        long signaledAt = time.GetTimestamp();

        signal.Signal();
        time.Advance(TimeSpan.FromMilliseconds(3));

        Assert.Equal(signaledAt, await wait.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(TimeSpan.FromMilliseconds(3), time.GetElapsedTime(signaledAt));
        var timedOut = signal.WaitForSignalAsync(TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await timedOut.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task MetricsEndpoint_ConsumeSideTimings_ServedUnderTheirPrometheusNames()
    {
        string topic = $"prometheus-{Guid.NewGuid():N}";
        await using var metrics = await MetricsEndpoint.StartAsync();

        GranaryMetrics.RecordDeliveryDelay(topic, "g", oldestMs: 3, summedMs: 5, messages: 2);
        GranaryMetrics.RecordFetchWake(topic, TimeSpan.FromMilliseconds(0.25));

        var (_, lines) = await metrics.ScrapeUntilTopicShowsAsync(topic);
        static bool Is(string line, string series, double value) => line.StartsWith(series + "{", StringComparison.Ordinal)
            && Math.Abs(double.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) - value) < 1e-12;
        Assert.Contains(lines, l => Is(l, "granary_delivery_delay_seconds_count", 1));
        Assert.Contains(lines, l => Is(l, "granary_delivery_delay_seconds_sum", 0.003));
        Assert.Contains(lines, l => Is(l, "granary_delivery_age_seconds_total", 0.005));
        Assert.Contains(lines, l => Is(l, "granary_delivery_age_messages_total", 2));
        Assert.Contains(lines, l => Is(l, "granary_fetch_wake_seconds_count", 1));
        Assert.Contains(lines, l => Is(l, "granary_fetch_wake_seconds_sum", 0.00025));
    }
}
