using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Granary.LoadTest.Reporting;

/// <summary>
/// The figures of one run, printed as a table and written with <c>--json</c> under the names the issue fixes:
/// <c>messagesPerSecond</c>, <c>megabytesPerSecond</c>, <c>latencyMs</c> (p50, p90, p99, p999, max, mean), <c>errors</c>,
/// <c>settings</c>.
/// </summary>
internal sealed record RunReport(
    string Command,
    long Messages,
    double Seconds,
    double MessagesPerSecond,
    double MegabytesPerSecond,
    LatencyReport LatencyMs,
    long Errors,
    IReadOnlyDictionary<string, string> Settings)
{
    /// <summary>Extra counts of a scenario (verify: confirmed, lost, ...), in the table and the JSON.</summary>
    public IReadOnlyDictionary<string, long> Counts { get; init; } = new Dictionary<string, long>();

    /// <summary>
    /// What the silo allocated during the measured phase (<c>--silo-metrics</c>), or null when not measured or the silo
    /// does not export the counter.
    /// </summary>
    public SiloAllocation? SiloAllocation { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static RunReport From(string command, long messages, long bytes, TimeSpan elapsed, LatencyRecorder latency, long errors, IReadOnlyDictionary<string, string> settings)
    {
        double seconds = Math.Max(elapsed.TotalSeconds, 1e-9);
        return new RunReport(command, messages, elapsed.TotalSeconds, messages / seconds, bytes / seconds / 1_000_000, LatencyReport.From(latency), errors, settings);
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public void WriteTable(TextWriter output)
    {
        var rows = new List<(string, string)>
        {
            ("command", Command),
            ("messages", Messages.ToString("N0", CultureInfo.InvariantCulture)),
            ("seconds", Seconds.ToString("0.00", CultureInfo.InvariantCulture)),
            ("messages/s", MessagesPerSecond.ToString("N0", CultureInfo.InvariantCulture)),
            ("MB/s", MegabytesPerSecond.ToString("0.0", CultureInfo.InvariantCulture)),
            ("latency ms p50 / p90 / p99 / p99.9 / max", LatencyMs.ToString()),
            ("latency ms mean", LatencyMs.Mean.ToString("0.###", CultureInfo.InvariantCulture)),
            ("errors", Errors.ToString(CultureInfo.InvariantCulture)),
        };
        if (SiloAllocation is { } allocation)
        {
            rows.Add(("silo allocated bytes", allocation.Bytes.ToString("N0", CultureInfo.InvariantCulture)));
            rows.Add(("silo allocated bytes/message", allocation.BytesPerMessage.ToString("0.0", CultureInfo.InvariantCulture)));
        }
        rows.AddRange(Counts.Select(c => (c.Key, c.Value.ToString("N0", CultureInfo.InvariantCulture))));
        rows.AddRange(Settings.Select(s => ($"--{s.Key}", s.Value)));
        int width = rows.Max(r => r.Item1.Length);
        output.WriteLine();
        foreach (var (name, value) in rows) output.WriteLine($"  {name.PadRight(width)}  {value}");
    }
}

/// <summary>Latency percentiles in milliseconds, from an HdrHistogram.</summary>
internal sealed record LatencyReport(double P50, double P90, double P99, double P999, double Max)
{
    /// <summary>The mean (a latency budget subtracts the silo's mean durations from it).</summary>
    public double Mean { get; init; }

    public static LatencyReport From(LatencyRecorder latency) => latency.Count == 0
        ? new LatencyReport(0, 0, 0, 0, 0)
        : new LatencyReport(Ms(latency.PercentileMicros(50)), Ms(latency.PercentileMicros(90)), Ms(latency.PercentileMicros(99)),
            Ms(latency.PercentileMicros(99.9)), Ms(latency.PercentileMicros(100))) { Mean = latency.MeanMicros / 1000.0 };

    private static double Ms(long micros) => micros / 1000.0;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{P50:0.###} / {P90:0.###} / {P99:0.###} / {P999:0.###} / {Max:0.###}");
}
