using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Granary.Tests.Admin;

/// <summary>A real silo process with its admin HTTP API on a free loopback port, an HTTP client for it and an SDK client.</summary>
public class AdminSilo(params string[] settings) : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private SiloProcess? _silo;
    private GranaryClient? _client;

    internal SiloProcess Silo => _silo!;

    public GranaryClient Client => _client!;

    public HttpClient Http { get; private set; } = null!;

    public virtual async ValueTask InitializeAsync()
    {
        _silo = new SiloProcess(_data.Path, settings);
        _silo.Start();
        Http = new HttpClient { BaseAddress = _silo.AdminUrl, Timeout = TimeSpan.FromSeconds(60) };
        _client = await _silo.ConnectAsync();
        await WaitUntilReadyAsync(Http);
    }

    /// <summary>Polls <c>/health/ready</c> until the silo serves (Kestrel may start a moment before or after Orleans).</summary>
    public static Task WaitUntilReadyAsync(HttpClient http) => SiloProcess.WaitUntilReadyAsync(http, TimeSpan.FromSeconds(90));

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (_client is not null) await _client.DisposeAsync();
        if (_silo is not null) await _silo.DisposeAsync();
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Sends a request and reads its JSON body (null for an empty one).</summary>
    public async Task<(HttpStatusCode Status, JsonNode? Body, string? ContentType)> SendAsync(HttpMethod method, string path, object? body = null, string? contentType = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is string raw) request.Content = new StringContent(raw, System.Text.Encoding.UTF8, contentType ?? "application/json");
        else if (body is not null) request.Content = JsonContent.Create(body);
        using var response = await Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response.Content.Headers.ContentType?.MediaType);
    }
}

/// <summary>The silo the admin API tests share: small segments and a fast retention check, so altered retention shows at once.</summary>
public sealed class AdminApiSilo() : AdminSilo("--Granary:Storage:SegmentBytes=4096", "--Granary:RetentionCheckInterval=00:00:01");
