using System.Diagnostics;
using HdrHistogram;

namespace Granary.LoadTest.Reporting;

/// <summary>Latency in microseconds, one HdrHistogram per recording task (merged afterwards), never averages.</summary>
internal sealed class LatencyRecorder
{
    private readonly LongHistogram _histogram = new(TimeStamp.Minutes(10), 3);

    public void Record(long stopwatchTicks) =>
        _histogram.RecordValue(Math.Max(1, stopwatchTicks * 1_000_000 / Stopwatch.Frequency));

    public void Add(LatencyRecorder other) => _histogram.Add(other._histogram);

    /// <summary>Value at a percentile, in microseconds.</summary>
    public long PercentileMicros(double percentile) => _histogram.GetValueAtPercentile(percentile);

    public long Count => _histogram.TotalCount;
}
