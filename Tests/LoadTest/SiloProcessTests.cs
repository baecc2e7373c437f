using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Granary.Tests.LoadTest;

/// <summary>
/// The fixture that starts real silo processes for the kill tests: a silo that cannot start fails the caller at once
/// with its output (it used to leave the caller waiting out a 90-second connect with "connection refused" and no
/// reason), and its ports come from outside the range the kernel hands to outgoing connections.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SiloProcessTests
{
    [Fact]
    public async Task ConnectAsync_ToASiloThatExitsAtStart_FailsAtOnceWithTheSilosOutput()
    {
        using var data = new TempDirectory();
        // A setting the silo refuses at start: it prints the reason and exits.
        await using var silo = new SiloProcess(data.Path, ["--Granary:SessionTimeout=-00:00:01"]);
        silo.Start();
        var waited = Stopwatch.StartNew();

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(async () => await silo.ConnectAsync());

        Assert.Contains("exited with code", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Granary:SessionTimeout must be positive", failure.Message, StringComparison.Ordinal);
        // Well inside the client's 90-second connect timeout, which is what the caller waited out before.
        Assert.True(waited.Elapsed < TimeSpan.FromSeconds(75), $"took {waited.Elapsed}");
    }

    [Fact]
    public async Task WaitUntilReadyAsync_OnASiloThatExitsAtStart_FailsWithTheSilosOutput()
    {
        using var data = new TempDirectory();
        await using var silo = new SiloProcess(data.Path, ["--Granary:SessionTimeout=-00:00:01"]);
        silo.Start();

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => silo.WaitUntilReadyAsync(TimeSpan.FromMinutes(10)));

        Assert.Contains("Granary:SessionTimeout must be positive", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FreePorts_AreBelowTheEphemeralRange_DistinctAndBindable()
    {
        int[] ports = [.. Enumerable.Range(0, 20).Select(_ => FreePorts.Next())];

        Assert.Equal(ports.Length, ports.Distinct().Count());
        const string rangeFile = "/proc/sys/net/ipv4/ip_local_port_range";
        if (File.Exists(rangeFile))
        {
            int ephemeralLow = int.Parse(File.ReadAllText(rangeFile).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
            Assert.All(ports, port => Assert.InRange(port, 1024, ephemeralLow - 1));
        }
        foreach (int port in ports)
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
        }
    }
}
