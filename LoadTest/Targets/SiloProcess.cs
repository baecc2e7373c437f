using System.Diagnostics;
using Granary.Client;

namespace Granary.LoadTest.Targets;

/// <summary>
/// The real silo (<c>Granary.Silo.dll</c>, built beside this tool and the tests) as a child process on free ports and a
/// given data directory, so that <c>verify</c> and the kill tests can kill it with SIGKILL and start it again.
/// </summary>
internal sealed class SiloProcess(string dataDirectory, IReadOnlyList<string>? settings = null) : IAsyncDisposable
{
    private const int KeptOutputLines = 2000;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output = new();
    private Process? _process;

    public string DataDirectory { get; } = dataDirectory;

    public int GatewayPort { get; } = BrokerTarget.FreePort();

    public int SiloPort { get; } = BrokerTarget.FreePort();

    /// <summary>Port of its admin HTTP API (loopback).</summary>
    public int AdminPort { get; } = BrokerTarget.FreePort();

    /// <summary>Base URL of its admin HTTP API, console and health probes.</summary>
    public Uri AdminUrl => new($"http://127.0.0.1:{AdminPort}/");

    /// <summary>The process runs (started and not killed).</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>
    /// A cluster-mode silo: PostgreSQL membership, state and reminders, and a stable node name (its replicas' identity).
    /// </summary>
    public static SiloProcess ClusterMember(string dataDirectory, string connectionString, string nodeName, params string[] settings) =>
        new(dataDirectory, ["--Granary:Clustering=AdoNet", $"--Granary:ConnectionString={connectionString}", $"--Granary:NodeName={nodeName}", .. settings]);

    public void Start()
    {
        string silo = Path.Combine(AppContext.BaseDirectory, "Granary.Silo.dll");
        if (!File.Exists(silo)) throw new FileNotFoundException("Granary.Silo.dll is not beside the load-test tool; build the solution.", silo);
        var start = new ProcessStartInfo(DotNetHost(),
            [silo, $"--Granary:DataDirectory={DataDirectory}", $"--Granary:SiloPort={SiloPort}", $"--Granary:GatewayPort={GatewayPort}",
             $"--Granary:Admin:Urls=http://127.0.0.1:{AdminPort}", .. settings ?? []])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start the silo");
        _process.OutputDataReceived += (_, line) => Keep(line.Data);
        _process.ErrorDataReceived += (_, line) => Keep(line.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The silo's latest console output (stdout and stderr, up to 2000 lines), for assertions on what it logged and for failure messages.</summary>
    public IReadOnlyList<string> RecentOutput => [.. _output];

    /// <summary>True once the silo's output has a line containing <paramref name="text"/>.</summary>
    public bool HasLogged(string text) => CountLogged(text) > 0;

    /// <summary>How many lines of the silo's kept output contain <paramref name="text"/>.</summary>
    public int CountLogged(string text) => _output.Count(line => line.Contains(text, StringComparison.Ordinal));

    private void Keep(string? line)
    {
        if (line is null) return;
        _output.Enqueue(line);
        while (_output.Count > KeptOutputLines) _output.TryDequeue(out _);
    }

    /// <summary>Polls the silo's <c>/health/ready</c> until it serves grain calls (it has joined its cluster).</summary>
    /// <exception cref="TimeoutException">It did not within <paramref name="timeout"/>.</exception>
    public async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient { BaseAddress = AdminUrl, Timeout = TimeSpan.FromSeconds(30) };
        await WaitUntilReadyAsync(http, timeout, cancellationToken);
    }

    /// <summary>Polls <c>/health/ready</c> through <paramref name="http"/> (an admin client, plain or HTTPS) until it answers 200.</summary>
    /// <exception cref="TimeoutException">It did not within <paramref name="timeout"/>.</exception>
    public static async Task WaitUntilReadyAsync(HttpClient http, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var response = await http.GetAsync("health/ready", cancellationToken);
                if (response.IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // not listening yet, or the request timed out while the silo starts
            }
            if (deadline.Elapsed > timeout) throw new TimeoutException($"The silo at {http.BaseAddress} was not ready within {timeout}.");
            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>Connects a client, waiting (generously) for the silo to come up.</summary>
    public Task<GranaryClient> ConnectAsync(CancellationToken cancellationToken = default) =>
        GranaryClient.ConnectAsync(ClientOptions(), cancellationToken);

    /// <summary>Client options for this silo's gateway, with a generous connect timeout; callers add TLS and the like.</summary>
    public GranaryClientOptions ClientOptions() =>
        new() { Gateways = [$"127.0.0.1:{GatewayPort}"], ConnectTimeout = TimeSpan.FromSeconds(90), RetryRefusedConnections = true };

    /// <summary>SIGTERM: the silo shuts down cleanly (grains deactivate, logs are flushed) and exits.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (_process is null) return;
        using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await term.WaitForExitAsync();
        using var deadline = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(deadline.Token);
        _process.Dispose();
        _process = null;
    }

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
