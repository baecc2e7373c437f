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

    public int GatewayPort { get; } = FreePorts.Next();

    public int SiloPort { get; } = FreePorts.Next();

    /// <summary>Port of its admin HTTP API (loopback).</summary>
    public int AdminPort { get; } = FreePorts.Next();

    /// <summary>Base URL of its admin HTTP API, console and health probes.</summary>
    public Uri AdminUrl => new($"http://127.0.0.1:{AdminPort}/");

    /// <summary>The silo process's id while it runs (null before Start and after a kill).</summary>
    public int? ProcessId => _process?.Id;

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
    /// <exception cref="InvalidOperationException">The process exited first (the message holds its output).</exception>
    public async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient { BaseAddress = AdminUrl, Timeout = TimeSpan.FromSeconds(30) };
        await WhileRunningAsync(async token =>
        {
            await WaitUntilReadyAsync(http, timeout, token);
            return true;
        }, cancellationToken);
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
    /// <exception cref="InvalidOperationException">The process exited first (the message holds its output).</exception>
    public Task<GranaryClient> ConnectAsync(CancellationToken cancellationToken = default) =>
        WhileRunningAsync(token => GranaryClient.ConnectAsync(ClientOptions(), token), cancellationToken);

    /// <summary>
    /// Runs <paramref name="waitingForTheSilo"/> (a connect, a readiness poll) and, if the silo process exits before it
    /// completes, cancels it and fails with the exit code and the silo's last output: a silo that could not start (a
    /// port taken, a bad setting) fails the caller at once with its reason, not after the caller's timeout with none.
    /// </summary>
    /// <exception cref="InvalidOperationException">The process is not started, or exited first.</exception>
    public async Task<T> WhileRunningAsync<T>(Func<CancellationToken, Task<T>> waitingForTheSilo, CancellationToken cancellationToken = default)
    {
        var process = _process ?? throw new InvalidOperationException("The silo process is not started.");
        using var cancelWaiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var stopWatching = new CancellationTokenSource();
        var exited = process.WaitForExitAsync(stopWatching.Token);
        var waiting = waitingForTheSilo(cancelWaiting.Token);
        await Task.WhenAny(waiting, exited);
        if (!waiting.IsCompleted && exited.IsCompletedSuccessfully)
        {
            await cancelWaiting.CancelAsync();
            try
            {
                await waiting;
            }
            catch (Exception)
            {
                // cancelled because the silo is gone: the exit below is the failure to report
            }
            throw new InvalidOperationException(
                $"The silo process (gateway port {GatewayPort}, silo port {SiloPort}, admin port {AdminPort}) exited with code {process.ExitCode} " +
                $"while a caller waited for it. Its last output:{Environment.NewLine}{string.Join(Environment.NewLine, RecentOutput.TakeLast(60))}");
        }
        await stopWatching.CancelAsync();
        try
        {
            await exited;
        }
        catch (OperationCanceledException)
        {
            // still running: stopped watching
        }
        return await waiting;
    }

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
