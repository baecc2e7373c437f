using Granary.Client;
using Granary.Grains.Hosting;
using Granary.Grains.Security;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Granary.LoadTest.Targets;

/// <summary>
/// What a run talks to: a running cluster through its gateways, or (<c>--embedded</c>) a silo started in this process
/// on a temporary data directory, reached through its gateway like any client, so one command gives a number on a
/// fresh machine.
/// </summary>
internal sealed class BrokerTarget : IAsyncDisposable
{
    private readonly IHost? _silo;
    private readonly string? _dataDirectory;

    private BrokerTarget(GranaryClient client, IHost? silo, string? dataDirectory, string description)
    {
        Client = client;
        _silo = silo;
        _dataDirectory = dataDirectory;
        Description = description;
    }

    public GranaryClient Client { get; }

    /// <summary>Where the run went, for the report.</summary>
    public string Description { get; }

    public static async Task<BrokerTarget> OpenAsync(TargetSettings settings, CancellationToken cancellationToken)
    {
        if (!settings.Embedded)
        {
            var gateways = settings.Gateways.Length > 0 ? settings.Gateways : ["127.0.0.1:30000"];
            var client = await GranaryClient.ConnectAsync(new GranaryClientOptions { Gateways = gateways, ApiKey = settings.ApiKey }, cancellationToken);
            return new BrokerTarget(client, null, null, $"gateways {string.Join(", ", gateways)}{(settings.ApiKey is null ? "" : " (with an API key)")}");
        }

        string root = Path.Combine(Path.GetFullPath(settings.DataDirectory), $"loadtest-{Guid.NewGuid():N}");
        int siloPort = FreePorts.Next(), gatewayPort = FreePorts.Next();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning).AddConsole();
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(siloPort, gatewayPort, serviceId: "granary", clusterId: "granary")
            .AddGranary(o => o.DataDirectory = root)
            .Configure<GranarySecurityOptions>(o =>
            {
                // An API key given: security on, with it as the bootstrap key, so that every call is checked.
                o.Enabled = settings.ApiKey is not null;
                o.BootstrapKey = settings.ApiKey;
            }));
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        try
        {
            var client = await GranaryClient.ConnectAsync(new GranaryClientOptions { Gateways = [$"127.0.0.1:{gatewayPort}"], ApiKey = settings.ApiKey }, cancellationToken);
            return new BrokerTarget(client, host, root, $"embedded silo on {root}{(settings.ApiKey is null ? "" : " (security on)")}");
        }
        catch
        {
            await host.StopAsync(CancellationToken.None);
            host.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        if (_silo is not null)
        {
            await _silo.StopAsync(CancellationToken.None);
            _silo.Dispose();
        }
        if (_dataDirectory is not null && Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
    }
}

/// <summary>
/// Where to run: gateways (repeatable <c>--gateway</c>) or an embedded silo with its data directory; and the API key to
/// authenticate with (for an embedded silo, its bootstrap key, which turns its security on).
/// </summary>
internal sealed record TargetSettings(string[] Gateways, bool Embedded, string DataDirectory, string? ApiKey = null)
{
    /// <summary>The silo's Prometheus endpoint, to read its allocated bytes from (<c>--silo-metrics</c>); null: not measured.</summary>
    public Uri? SiloMetrics { get; init; }
}
