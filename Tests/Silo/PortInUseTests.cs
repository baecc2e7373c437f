using System.Net;
using Granary.Silo.Startup;
using Granary.Tests.Admin;

namespace Granary.Tests.Silo;

/// <summary>
/// A silo configured for a port another silo listens on refuses to start, naming the port and its setting, and the
/// first silo goes on serving. (Orleans' listener sets SO_REUSEPORT, so without the check both silos shared the port.)
/// </summary>
[Trait("Category", "Integration")]
public sealed class PortInUseTests(AdminApiSilo first) : IClassFixture<AdminApiSilo>
{
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(120);

    [Fact]
    public Task SecondSilo_OnTheGatewayPort_ExitsNamingThePort() =>
        SecondSiloRefusedAsync(first.Silo.GatewayPort, "Granary:GatewayPort",
            siloPort: FreePorts.Next(), gatewayPort: first.Silo.GatewayPort, adminPort: FreePorts.Next());

    [Fact]
    public Task SecondSilo_OnTheSiloPort_ExitsNamingThePort() =>
        SecondSiloRefusedAsync(first.Silo.SiloPort, "Granary:SiloPort",
            siloPort: first.Silo.SiloPort, gatewayPort: FreePorts.Next(), adminPort: FreePorts.Next());

    [Fact]
    public Task SecondSilo_OnTheAdminPort_ExitsNamingThePort() =>
        SecondSiloRefusedAsync(first.Silo.AdminPort, "Granary:Admin:Urls",
            siloPort: FreePorts.Next(), gatewayPort: FreePorts.Next(), adminPort: first.Silo.AdminPort);

    private async Task SecondSiloRefusedAsync(int takenPort, string setting, int siloPort, int gatewayPort, int adminPort)
    {
        using var data = new TempDirectory();
        var second = await SiloRun.UntilExitAsync(ExitDeadline,
            $"--Granary:DataDirectory={data.Path}", $"--Granary:SiloPort={siloPort}", $"--Granary:GatewayPort={gatewayPort}",
            $"--Granary:Admin:Urls=http://127.0.0.1:{adminPort}");

        Assert.True(second.ExitCode == SiloExitCodes.Configuration, second.ToString());
        Assert.Contains($"Port {takenPort} ({setting})", second.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", second.Stderr + second.Stdout, StringComparison.Ordinal);

        // The first silo still serves its admin API and its gateway.
        using var ready = await first.Http.GetAsync("health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        string topic = $"port-{Guid.NewGuid():N}";
        await first.Client.Admin.CreateTopicAsync(topic);
        Assert.Contains(topic, await first.Client.Admin.ListTopicsAsync());
    }
}
