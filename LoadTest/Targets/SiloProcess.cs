using System.Diagnostics;
using Granary.Client;

namespace Granary.LoadTest.Targets;

/// <summary>
/// The real silo (<c>Granary.Silo.dll</c>, built beside this tool and the tests) as a child process on free ports and a
/// given data directory, so that <c>verify</c> and the kill tests can kill it with SIGKILL and start it again.
/// </summary>
internal sealed class SiloProcess(string dataDirectory) : IAsyncDisposable
{
    private Process? _process;

    public string DataDirectory { get; } = dataDirectory;

    public int GatewayPort { get; } = BrokerTarget.FreePort();

    private int SiloPort { get; } = BrokerTarget.FreePort();

    public void Start()
    {
        string silo = Path.Combine(AppContext.BaseDirectory, "Granary.Silo.dll");
        if (!File.Exists(silo)) throw new FileNotFoundException("Granary.Silo.dll is not beside the load-test tool; build the solution.", silo);
        var start = new ProcessStartInfo(DotNetHost(),
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
    public Task<GranaryClient> ConnectAsync(CancellationToken cancellationToken = default) =>
        GranaryClient.ConnectAsync(new GranaryClientOptions { Gateways = [$"127.0.0.1:{GatewayPort}"], ConnectTimeout = TimeSpan.FromSeconds(90) }, cancellationToken);

    /// <summary>SIGKILL: no shutdown, no flush.</summary>
    public async Task KillAsync()
    {
        if (_process is null) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync() => await KillAsync();

    /// <summary>The <c>dotnet</c> host running this process (or on the PATH), to start other assemblies with.</summary>
    internal static string DotNetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path
        : "dotnet";
}
