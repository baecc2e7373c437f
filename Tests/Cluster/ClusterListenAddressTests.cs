using System.Net;
using Granary.Tests.Silo;

namespace Granary.Tests.Cluster;

/// <summary>
/// Cluster mode listens where it is told: by default on its advertised address only (before, on every address of the
/// machine, 0.0.0.0, with no warning), on every address when <c>Granary:ListenAddress=0.0.0.0</c> with security on;
/// and it logs every listener at start.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ClusterListenAddressTests(PostgresFixture postgres)
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task ClusterSilos_ListenOnTheirListenAddressOnly_AndLogEveryListener()
    {
        using var data = new TempDirectory();
        // Two one-silo clusters, each on its own database.
        await using var local = SiloProcess.ClusterMember(Path.Combine(data.Path, "local"), await postgres.CreateDatabaseAsync(), "local");
        await using var wide = SiloProcess.ClusterMember(Path.Combine(data.Path, "wide"), await postgres.CreateDatabaseAsync(), "wide",
            "--Granary:Security:Enabled=true", "--Granary:ListenAddress=0.0.0.0");
        local.Start();
        wide.Start();
        // Each silo's last start-up line: the security warning (local, security off) and the admin listener (wide, on). The
        // output is read as it comes: waiting for an earlier line let the checks below run before the later ones arrived.
        await Eventually.UntilAsync(() => (local.HasLogged("Security is off") || !local.IsRunning) && (wide.HasLogged("Listening: admin API") || !wide.IsRunning), StartDeadline);
        string output = $"local: {string.Join('\n', local.RecentOutput)}\nwide: {string.Join('\n', wide.RecentOutput)}";
        Assert.True(local.IsRunning && wide.IsRunning, output);

        Assert.True(local.HasLogged($"Listening: silo port (silo to silo) on 127.0.0.1:{local.SiloPort}"), output);
        Assert.True(local.HasLogged($"Listening: gateway (clients) on 127.0.0.1:{local.GatewayPort}"), output);
        Assert.True(local.HasLogged($"Listening: admin API, console and metrics on http://127.0.0.1:{local.AdminPort}"), output);
        Assert.True(wide.HasLogged($"Listening: silo port (silo to silo) on 0.0.0.0:{wide.SiloPort}"), output);
        Assert.True(wide.HasLogged($"Listening: gateway (clients) on 0.0.0.0:{wide.GatewayPort}"), output);
        Assert.Equal(1, local.CountLogged("Security is off"));
        Assert.Equal(0, wide.CountLogged("Security is off"));

        Assert.True(await LocalAddresses.AcceptsAsync(IPAddress.Loopback, local.GatewayPort));
        Assert.True(await LocalAddresses.AcceptsAsync(IPAddress.Loopback, wide.GatewayPort));
        if (LocalAddresses.NonLoopbackIPv4() is { } open)
        {
            Assert.False(await LocalAddresses.AcceptsAsync(open, local.GatewayPort), $"the default silo's gateway accepts on {open}");
            Assert.False(await LocalAddresses.AcceptsAsync(open, local.SiloPort), $"the default silo's silo port accepts on {open}");
            Assert.True(await LocalAddresses.AcceptsAsync(open, wide.GatewayPort), $"the 0.0.0.0 silo's gateway refuses on {open}");
            Assert.True(await LocalAddresses.AcceptsAsync(open, wide.SiloPort), $"the 0.0.0.0 silo's silo port refuses on {open}");
        }
    }
}
