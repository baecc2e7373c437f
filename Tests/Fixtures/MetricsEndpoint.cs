using Granary.Silo.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Tests.Fixtures;

/// <summary>The silo's telemetry as the silo registers it (AddGranaryTelemetry + MapGranaryMetrics, without Orleans' meters) on a loopback port.</summary>
internal sealed class MetricsEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _http;

    private MetricsEndpoint(WebApplication app)
    {
        _app = app;
        _http = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };
    }

    /// <summary>The Prometheus endpoint's address.</summary>
    public Uri Url => new(_http.BaseAddress!, "/metrics");

    public static async Task<MetricsEndpoint> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddGranaryTelemetry(includeOrleansMetrics: false);
        var app = builder.Build();
        app.MapGranaryMetrics();
        await app.StartAsync();
        return new MetricsEndpoint(app);
    }

    /// <summary>
    /// Scrapes until series labelled with <paramref name="topic"/> show (the exporter caches a scrape briefly), and
    /// returns the whole text and those lines.
    /// </summary>
    public async Task<(string Text, List<string> TopicLines)> ScrapeUntilTopicShowsAsync(string topic)
    {
        string label = $"topic=\"{topic}\"";
        string? text = null;
        await Eventually.UntilAsync(async () =>
        {
            text = await _http.GetStringAsync(Url);
            return text.Contains(label, StringComparison.Ordinal);
        });
        return (text!, [.. text!.Split('\n').Where(l => l.Contains(label, StringComparison.Ordinal))]);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
