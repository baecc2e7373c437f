using System.Diagnostics;
using StackExchange.Redis;

namespace Granary.LoadTest.Targets;

/// <summary>
/// A throwaway <c>redis-server</c> (Debian's package: <c>apt-get install redis-server</c>) on a free loopback port in a
/// temporary directory, durable as the comparison needs it: append-only file on, <c>appendfsync always</c> (Redis
/// fsyncs the AOF before it answers the commands of each event-loop round), no RDB snapshots. Disposing kills it and
/// deletes its files.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private RedisServer(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>host:port for StackExchange.Redis.</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>The settings the server runs with, for the report.</summary>
    public static readonly string[] DurabilitySettings = ["--appendonly", "yes", "--appendfsync", "always", "--save", ""];

    /// <summary>Starts <paramref name="serverPath"/> (a path, or a name on the PATH) and waits until it answers PING.</summary>
    public static async Task<RedisServer> StartAsync(string serverPath, string dataDirectory, CancellationToken cancellationToken)
    {
        string directory = Directory.CreateDirectory(Path.Combine(Path.GetFullPath(dataDirectory), $"redis-{Guid.NewGuid():N}")).FullName;
        int port = FreePorts.Next();
        var start = new ProcessStartInfo(serverPath,
            ["--port", $"{port}", "--bind", "127.0.0.1", "--dir", directory, "--daemonize", "no", "--logfile", "", .. DurabilitySettings])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {serverPath}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Directory.Delete(directory, recursive: true);
            throw new ArgumentException($"cannot start {serverPath} ({e.Message}); install Debian's redis-server or give --redis-server PATH");
        }
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServer(process, directory, port);
        try
        {
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    await using var probe = await ConnectionMultiplexer.ConnectAsync(server.Endpoint);
                    await probe.GetDatabase().PingAsync();
                    return server;
                }
                catch (RedisConnectionException) when (deadline.Elapsed < TimeSpan.FromSeconds(30) && !process.HasExited)
                {
                    await Task.Delay(100, cancellationToken);
                }
            }
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
