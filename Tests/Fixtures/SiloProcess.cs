using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Granary.Tests.Fixtures;

/// <summary>
/// A real <c>Silo</c> process (the same binary <c>dotnet run --project Silo</c> starts) on free loopback ports and a
/// test data directory, so that tests can kill it with SIGKILL and start it again.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private Process? _process;

    public SiloProcess(string dataDirectory)
    {
        DataDirectory = dataDirectory;
        SiloPort = FreePort();
        GatewayPort = FreePort();
    }

    public string DataDirectory { get; }
    public int SiloPort { get; }
    public int GatewayPort { get; }

    public void Start()
    {
        string silo = Path.Combine(AppContext.BaseDirectory, "Granary.Silo.dll");
        var start = new ProcessStartInfo(Storage.CrashTests.DotNetHost(),
            [silo, $"--Granary:DataDirectory={DataDirectory}", $"--Granary:SiloPort={SiloPort}", $"--Granary:GatewayPort={GatewayPort}"])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start the silo");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Connects a client, waiting (generously) for the silo to come up.</summary>
    public Task<GranaryClient> ConnectAsync() =>
        GranaryClient.ConnectAsync(new GranaryClientOptions { Gateways = [$"127.0.0.1:{GatewayPort}"], ConnectTimeout = TimeSpan.FromSeconds(90) });

    /// <summary>SIGKILL: no shutdown, no flush, no finally.</summary>
    public async Task KillAsync()
    {
        if (_process is null) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync() => await KillAsync();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
