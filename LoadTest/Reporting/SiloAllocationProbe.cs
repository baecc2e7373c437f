using System.Globalization;
using System.Net.Http.Headers;

namespace Granary.LoadTest.Reporting;

/// <summary>
/// Reads how many bytes a silo running as its own process has allocated (<c>GC.GetTotalAllocatedBytes</c>, which .NET's
/// <c>System.Runtime</c> meter reports as <c>dotnet.gc.heap.total_allocated</c>) from its Prometheus endpoint before and
/// after a run's measured phase, for the silo's bytes allocated per message.
/// </summary>
/// <remarks>
/// The exporter caches a scrape for a short while (300 ms by default), so each reading first waits
/// <see cref="Settle"/>: the figure then includes what the silo allocated in that second, plus one scrape; both are
/// small against a run of many messages (an idle silo allocates a few kilobytes a second). A silo that does not export
/// the meter (builds before it was added) gives no figure: measure those with <c>dotnet-counters</c> (README).
/// </remarks>
internal sealed class SiloAllocationProbe(Uri metricsUrl, string? apiKey) : IDisposable
{
    /// <summary>The series, in the Prometheus names the OpenTelemetry exporter gives the instrument.</summary>
    public const string SeriesName = "dotnet_gc_heap_total_allocated_bytes_total";

    private readonly HttpClient _http = CreateClient(apiKey);
    private long? _before;

    /// <summary>How long to wait before a reading, for the exporter's cached scrape to expire.</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(1);

    public Uri MetricsUrl { get; } = metricsUrl;

    /// <summary>Reads the counter at the start of the measured phase.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _before = await ReadAsync(cancellationToken);
    }

    /// <summary>Reads it at the end: the bytes allocated since <see cref="StartAsync"/>, or null when the silo does not export the counter.</summary>
    public async Task<SiloAllocation?> StopAsync(long messages, CancellationToken cancellationToken)
    {
        long? after = await ReadAsync(cancellationToken);
        if (_before is not { } before || after is not { } end) return null;
        long bytes = end - before;
        return new SiloAllocation(bytes, messages > 0 ? bytes / (double)messages : 0);
    }

    /// <summary>The silo's total allocated bytes now, or null when its metrics have no such series.</summary>
    public async Task<long?> ReadAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(Settle, cancellationToken);
        string text = await _http.GetStringAsync(MetricsUrl, cancellationToken);
        return Parse(text);
    }

    /// <summary>The value of <see cref="SeriesName"/> in a Prometheus text exposition (summed over label sets), or null.</summary>
    public static long? Parse(string text)
    {
        double? total = null;
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (!line.StartsWith(SeriesName, StringComparison.Ordinal)) continue;
            var rest = line[SeriesName.Length..];
            // The name must end here: followed by labels or the value, not by a longer name.
            if (rest.IsEmpty || (rest[0] != '{' && rest[0] != ' ')) continue;
            if (rest[0] == '{') rest = rest[(rest.IndexOf('}') + 1)..];
            rest = rest.TrimStart(' ');
            int space = rest.IndexOf(' '); // a timestamp may follow the value
            var value = space < 0 ? rest : rest[..space];
            total = (total ?? 0) + double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture);
        }
        return total is { } t ? (long)t : null;
    }

    public void Dispose() => _http.Dispose();

    private static HttpClient CreateClient(string? apiKey)
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        if (apiKey is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return http;
    }
}

/// <summary>What the silo allocated during a run's measured phase: in all, and per message.</summary>
internal sealed record SiloAllocation(long Bytes, double BytesPerMessage);
