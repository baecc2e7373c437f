using System.Globalization;
using System.Net;
using Granary.Silo.Startup;

namespace Granary.Tests.Silo;

/// <summary>
/// Secure defaults (issue 17): with <c>Granary:Security:Enabled</c> off, a silo asked to listen beyond loopback, by
/// any setting, refuses to start before it listens (one line on stderr naming the setting and the address, exit code
/// 2); with security on the same setting is not refused; a silo on loopback logs every listener and one warning that
/// security is off. Before, <c>--Kestrel:Endpoints:Evil:Url=http://0.0.0.0:...</c> bound every interface, keyless,
/// and cluster mode listened on 0.0.0.0 whatever it was told.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SecureDefaultsTests
{
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(120);

    /// <summary>
    /// A PostgreSQL server that is not there: a cluster-mode silo that reached for it before refusing its listen address
    /// would fail with exit code 1 after the connection attempt, so the refusal needs no database.
    /// </summary>
    private const string NoDatabase = "Host=127.0.0.1;Port=1;Username=granary;Password=unused;Database=granary;Timeout=3";

    [Theory]
    [InlineData("Granary:Admin:Urls", "http://0.0.0.0:{port}", "--Granary:Admin:Urls=http://0.0.0.0:{port}")]
    [InlineData("Kestrel:Endpoints:Evil:Url", "http://0.0.0.0:{port}", "--Kestrel:Endpoints:Evil:Url=http://0.0.0.0:{port}")]
    [InlineData("Kestrel:Endpoints:Named:Url", "http://granary.example.com:{port}", "--Kestrel:Endpoints:Named:Url=http://granary.example.com:{port}")]
    [InlineData("--urls", "http://+:{port}", "--urls=http://+:{port}")]
    [InlineData("Granary:ListenAddress", "0.0.0.0:{silo}", "--Granary:Clustering=AdoNet", "--Granary:ConnectionString=" + NoDatabase, "--Granary:ListenAddress=0.0.0.0")]
    [InlineData("Granary:AdvertisedAddress", "192.0.2.10:{silo}", "--Granary:Clustering=AdoNet", "--Granary:ConnectionString=" + NoDatabase, "--Granary:AdvertisedAddress=192.0.2.10")]
    public async Task ListenerBeyondLoopback_WithSecurityOff_IsRefusedBeforeListening(string setting, string address, params string[] settings)
    {
        var ports = Ports.Free();
        var run = await RunAsync(ports, new Dictionary<string, string>(), settings);
        AssertRefused(run, setting, ports.Fill(address));
    }

    [Fact]
    public async Task AspNetCoreUrlsBeyondLoopback_WithSecurityOff_IsRefusedBeforeListening()
    {
        var ports = Ports.Free();
        string url = ports.Fill("http://0.0.0.0:{port}");
        var run = await RunAsync(ports, new Dictionary<string, string> { ["ASPNETCORE_URLS"] = url }, []);
        AssertRefused(run, "ASPNETCORE_URLS", url);
    }

    [Fact]
    public async Task KestrelEndpointBeyondLoopback_WithSecurityOn_Starts()
    {
        using var data = new TempDirectory();
        int port = FreePorts.Next();
        await using var silo = new SiloProcess(data.Path, ["--Granary:Security:Enabled=true", $"--Kestrel:Endpoints:Public:Url=http://0.0.0.0:{port}"]);
        silo.Start();
        string listening = $"Listening: admin API, console and metrics on http://0.0.0.0:{port}";
        await Eventually.UntilAsync(() => silo.HasLogged(listening) || !silo.IsRunning, StartDeadline);
        Assert.True(silo.IsRunning && silo.HasLogged(listening), string.Join('\n', silo.RecentOutput));
        Assert.True(await LocalAddresses.AcceptsAsync(IPAddress.Loopback, port));
        if (LocalAddresses.NonLoopbackIPv4() is { } open) Assert.True(await LocalAddresses.AcceptsAsync(open, port), $"nothing accepts on {open}:{port}");
        Assert.Equal(0, silo.CountLogged("Security is off"));
    }

    [Fact]
    public async Task EmbeddedSilo_LogsEveryListener_AndOneWarningThatSecurityIsOff()
    {
        using var data = new TempDirectory();
        await using var silo = new SiloProcess(data.Path);
        silo.Start();
        await Eventually.UntilAsync(() => silo.HasLogged("Security is off") || !silo.IsRunning, StartDeadline);
        string output = string.Join('\n', silo.RecentOutput);
        Assert.True(silo.IsRunning, output);

        Assert.True(silo.HasLogged($"Listening: silo port (silo to silo) on 127.0.0.1:{silo.SiloPort}"), output);
        Assert.True(silo.HasLogged($"Listening: gateway (clients) on 127.0.0.1:{silo.GatewayPort}"), output);
        Assert.True(silo.HasLogged($"Listening: admin API, console and metrics on http://127.0.0.1:{silo.AdminPort}"), output);
        Assert.Equal(1, silo.CountLogged("Security is off"));
        string warning = silo.RecentOutput.Single(line => line.Contains("Security is off", StringComparison.Ordinal));
        Assert.Contains("anyone who can reach these loopback ports may do anything", warning, StringComparison.Ordinal);
        foreach (string port in new[] { $"127.0.0.1:{silo.GatewayPort}", $"127.0.0.1:{silo.SiloPort}", $"http://127.0.0.1:{silo.AdminPort}" })
            Assert.Contains(port, warning, StringComparison.Ordinal);
        // Embedded mode stays on loopback: another machine cannot reach its gateway.
        if (LocalAddresses.NonLoopbackIPv4() is { } open) Assert.False(await LocalAddresses.AcceptsAsync(open, silo.GatewayPort), $"the gateway accepts on {open}");
    }

    private static async Task<SiloRun.Result> RunAsync(Ports ports, IReadOnlyDictionary<string, string> environment, string[] settings)
    {
        using var data = new TempDirectory();
        return await SiloRun.UntilExitAsync(ExitDeadline, environment,
            [$"--Granary:DataDirectory={data.Path}", $"--Granary:SiloPort={ports.Silo}", $"--Granary:GatewayPort={ports.Gateway}",
             $"--Granary:Admin:Urls=http://127.0.0.1:{ports.Admin}", .. settings.Select(ports.Fill)]);
    }

    private static void AssertRefused(SiloRun.Result run, string setting, string address)
    {
        Assert.True(run.ExitCode == SiloExitCodes.Configuration, run.ToString());
        string line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("Granary silo cannot start: ", line, StringComparison.Ordinal);
        Assert.Contains(setting, line, StringComparison.Ordinal);
        Assert.Contains($"would listen on {address}, beyond loopback", line, StringComparison.Ordinal);
        Assert.Contains("turn on Granary:Security:Enabled", line, StringComparison.Ordinal);
        Assert.Contains("bind it to 127.0.0.1", line, StringComparison.Ordinal);
        // Refused before anything listened: neither Orleans nor the web host started.
        Assert.DoesNotContain("Listening:", run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Application started", run.Stdout, StringComparison.Ordinal);
    }

    /// <summary>The ports a refused silo is given; <c>{port}</c> in a setting is the one under test, <c>{silo}</c> the silo port.</summary>
    private sealed record Ports(int Silo, int Gateway, int Admin, int Port)
    {
        public static Ports Free() => new(FreePorts.Next(), FreePorts.Next(), FreePorts.Next(), FreePorts.Next());

        public string Fill(string text) => text
            .Replace("{port}", Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{silo}", Silo.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }
}
