using System.Net;
using Granary.Grains.Hosting;
using Granary.Silo.Admin;
using Granary.Silo.Startup;
using Granary.Silo.Telemetry;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

// Host wiring only. Configuration comes from appsettings.json, environment variables and the command line
// (Granary:* keys, e.g. --Granary:GatewayPort=30001 or Granary__GatewayPort=30001).
// A silo that cannot start as configured (a refused setting, a taken port) prints why on one line of stderr and exits
// with code 2 (SiloExitCodes), rather than aborting on an unhandled exception.
WebApplication app;
try
{
    app = await BuildAsync(args);
}
catch (Exception e)
{
    return Fail(StartupFailure.WhileConfiguring(e));
}
try
{
    // The options checks run here rather than inside the host's start, which would log them with a stack trace first.
    app.Services.GetService<IStartupValidator>()?.Validate();
    await app.StartAsync();
}
catch (Exception e)
{
    var failure = StartupFailure.WhileStarting(e);
    // Whatever did start (Orleans, when Kestrel failed) stops before the process exits.
    using (var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
    {
        try
        {
            await app.StopAsync(stopping.Token);
        }
        catch (Exception stopFailure) when (stopFailure is OperationCanceledException or InvalidOperationException or AggregateException)
        {
            // The start failure is what the operator needs; a half-started host may fail to stop as well.
        }
    }
    await app.DisposeAsync();
    return Fail(failure);
}

// Ctrl+C or SIGTERM stops the silo: grains deactivate and every partition log is flushed and closed.
await app.WaitForShutdownAsync();
await app.DisposeAsync();
return SiloExitCodes.Ok;

static int Fail(StartupFailure failure)
{
    Console.Error.WriteLine(failure.Message);
    return failure.ExitCode;
}

static async Task<WebApplication> BuildAsync(string[] args)
{
    // No reload of appsettings on change: its file watcher watches the content root recursively (the working directory,
    // where the default data directory lives), so it took one inotify watch per partition directory (157 for 100
    // partitions; the per-user limit can be 8,192) and woke a thread on every segment write. The silo reads its settings
    // once at start. Given first, so that an explicit --hostBuilder:reloadConfigOnChange=true still wins.
    var builder = WebApplication.CreateBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
    var granary = builder.Configuration.GetSection(GranaryOptions.SectionName);
    int siloPort = granary.GetValue("SiloPort", 11111);
    int gatewayPort = granary.GetValue("GatewayPort", 30000);
    string serviceId = granary.GetValue("ServiceId", "granary")!;
    string clusterId = granary.GetValue("ClusterId", "granary")!;
    // Granary:Tls:* (off by default). Checked and loaded here, so a bad path or certificate stops the silo before it listens.
    var tls = builder.Configuration.GetSection(GranaryTlsOptions.SectionName).Get<GranaryTlsOptions>() ?? new GranaryTlsOptions();
    // Secure defaults: with security off, nothing may listen beyond loopback (ListenerExposure). The HTTP listeners are
    // checked before the admin API sets the web host's URLs, which replaces what `urls` asked for.
    bool securityEnabled = ListenerExposure.IsSecurityEnabled(builder.Configuration);
    var admin = builder.Configuration.GetSection(AdminOptions.SectionName).Get<AdminOptions>() ?? new AdminOptions();
    ListenerExposure.EnsureAllowed(ListenerExposure.HttpListeners(builder.Configuration, admin), securityEnabled);

    bool clusterMode = string.Equals(granary["Clustering"], "AdoNet", StringComparison.OrdinalIgnoreCase);
    string? connectionString = null;
    string addressSetting;
    if (clusterMode)
    {
        // Cluster mode: silos find each other, keep grain state and reminders in PostgreSQL. The node name identifies
        // this silo's disk (its replicas) across restarts, so it must be stable and unique.
        connectionString = granary["ConnectionString"] is { Length: > 0 } cs ? cs
            : throw new InvalidOperationException("Granary:Clustering=AdoNet needs Granary:ConnectionString (PostgreSQL).");
        string nodeName = granary["NodeName"] is { Length: > 0 } name ? name : $"{Dns.GetHostName()}-{siloPort}";
        // The silo listens where it is told (Granary:ListenAddress), by default only on the address it advertises;
        // every address (0.0.0.0) only when asked, and then only with security on.
        var advertised = ListenerExposure.ParseAddress(granary.GetValue("AdvertisedAddress", "127.0.0.1")!, ListenerExposure.AdvertisedAddressSetting);
        string? listenSetting = builder.Configuration[ListenerExposure.ListenAddressSetting];
        var listen = string.IsNullOrEmpty(listenSetting) ? advertised : ListenerExposure.ParseAddress(listenSetting, ListenerExposure.ListenAddressSetting);
        addressSetting = string.IsNullOrEmpty(listenSetting) ? $"{ListenerExposure.AdvertisedAddressSetting}, as {ListenerExposure.ListenAddressSetting} is not set" : ListenerExposure.ListenAddressSetting;
        builder.UseOrleans(silo => silo
            .Configure<ClusterOptions>(o => { o.ClusterId = clusterId; o.ServiceId = serviceId; })
            .Configure<SiloOptions>(o => o.SiloName = nodeName)
            .Configure<EndpointOptions>(o =>
            {
                o.AdvertisedIPAddress = advertised;
                o.SiloPort = siloPort;
                o.GatewayPort = gatewayPort;
                o.SiloListeningEndpoint = new IPEndPoint(listen, siloPort);
                o.GatewayListeningEndpoint = gatewayPort == 0 ? null : new IPEndPoint(listen, gatewayPort);
            })
            // A killed silo is declared dead after about 2 missed 2-second probes (Orleans' defaults take 30 s or more),
            // so its partitions fail over within seconds; Granary:Membership:* overrides any ClusterMembershipOptions.
            .Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(2);
                o.NumMissedProbesLimit = 2;
                o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
            })
            .Configure<ClusterMembershipOptions>(builder.Configuration.GetSection("Granary:Membership"))
            .UseGranaryCluster(connectionString)
            .UseGranaryTls(tls)
            .AddGranary(embeddedStorage: false));
    }
    else
    {
        // Embedded mode listens on loopback only; pinned here so that no other setting (Orleans:Endpoints:*) opens it.
        addressSetting = "Orleans:Endpoints";
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(siloPort: siloPort, gatewayPort: gatewayPort, serviceId: serviceId, clusterId: clusterId)
            .Configure<EndpointOptions>(o =>
            {
                o.SiloListeningEndpoint = new IPEndPoint(IPAddress.Loopback, siloPort);
                o.GatewayListeningEndpoint = gatewayPort == 0 ? null : new IPEndPoint(IPAddress.Loopback, gatewayPort);
            })
            .UseGranaryTls(tls)
            .AddGranary());
    }

    // The admin API, console and health probes share the host with the silo (http://127.0.0.1:30080 unless configured).
    builder.AddGranaryAdminApi();
    // The Granary and Orleans meters, scraped by Prometheus at /metrics on the admin URLs (behind the API key, if any).
    builder.Services.AddGranaryTelemetry();
    var app = builder.Build();

    // Where Orleans will listen, as every setting left it: refused beyond loopback without security, and probed, before
    // anything listens or PostgreSQL is reached.
    var orleans = OrleansListeningEndpoints.From(app.Services.GetRequiredService<IOptions<EndpointOptions>>().Value);
    ListenerExposure.EnsureAllowed(ListenerExposure.OrleansListeners(orleans, addressSetting), securityEnabled);
    PortProbe.EnsureFree(orleans.Silo.Address, orleans.Silo.Port, "Granary:SiloPort");
    if (orleans.Gateway is { } gateway) PortProbe.EnsureFree(gateway.Address, gateway.Port, "Granary:GatewayPort");
    if (clusterMode && granary.GetValue("CreateSchema", true)) await PostgresSchema.EnsureCreatedAsync(connectionString!);

    app.MapGranaryAdminApi();
    app.MapGranaryMetrics();
    ListenerLog.OnStarted(app, orleans, admin, securityEnabled);
    return app;
}
