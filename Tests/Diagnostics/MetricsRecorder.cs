using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Granary.Grains.Diagnostics;

namespace Granary.Tests.Diagnostics;

/// <summary>
/// Collects every measurement of the Granary meter while it lives. A MeterListener sees the whole process, other
/// tests included: callers filter by their own unique topic.
/// </summary>
public sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Recorded> _measurements = new();

    public MetricsRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == GranaryMetrics.MeterName) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    public sealed record Recorded(string Instrument, double Value, IReadOnlyDictionary<string, string?> Tags);

    public IEnumerable<Recorded> Of(string instrument, string topic) =>
        _measurements.Where(m => m.Instrument == instrument && m.Tags.GetValueOrDefault(GranaryMetrics.TopicTag) == topic);

    public IEnumerable<Recorded> Of(string instrument) => _measurements.Where(m => m.Instrument == instrument);

    public double Sum(string instrument, string topic) => Of(instrument, topic).Sum(m => m.Value);

    /// <summary>Runs the observable instruments' callbacks (the consumer-lag gauge) now, adding what they report.</summary>
    public void Observe() => _listener.RecordObservableInstruments();

    /// <summary>The last value the lag gauge reported for a topic and group, after observing it now; null when it reported none.</summary>
    public double? ObservedLag(string topic, string group)
    {
        Observe();
        return Of("granary.consumer.lag", topic).LastOrDefault(m => m.Tags.GetValueOrDefault(GranaryMetrics.GroupTag) == group)?.Value;
    }

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, string?>(tags.Length);
        foreach (var tag in tags) copy[tag.Key] = tag.Value?.ToString();
        _measurements.Enqueue(new Recorded(instrument.Name, value, copy));
    }
}
