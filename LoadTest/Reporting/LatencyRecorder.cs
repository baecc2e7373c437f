using System.Diagnostics;
using HdrHistogram;

namespace Granary.LoadTest.Reporting;

/// <summary>
/// Latency in microseconds in an HdrHistogram (never averages). Thread-safe: confirmations and deliveries are recorded
/// from pool threads; the lock costs tens of nanoseconds against microseconds of work per message.
/// </summary>
internal sealed class LatencyRecorder
{
    private readonly LongHistogram _histogram = new(TimeStamp.Minutes(10), 3);
    private readonly Lock _gate = new();

    public void Record(long stopwatchTicks) => RecordMicros(stopwatchTicks * 1_000_000 / Stopwatch.Frequency);

    public void RecordMicros(long micros)
    {
        lock (_gate) _histogram.RecordValue(Math.Clamp(micros, 1, _histogram.HighestTrackableValue));
    }

    public void Add(LatencyRecorder other)
    {
        lock (_gate) _histogram.Add(other._histogram);
    }

    /// <summary>Value at a percentile, in microseconds.</summary>
    public long PercentileMicros(double percentile)
    {
        lock (_gate) return _histogram.GetValueAtPercentile(percentile);
    }

    /// <summary>The mean, in microseconds: for a latency budget, whose parts (the silo's histograms) add up as means, not percentiles.</summary>
    public double MeanMicros
    {
        get
        {
            lock (_gate) return _histogram.GetMean();
        }
    }

    public long Count
    {
        get
        {
            lock (_gate) return _histogram.TotalCount;
        }
    }
}
