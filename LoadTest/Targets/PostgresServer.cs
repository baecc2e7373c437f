using Npgsql;

namespace Granary.LoadTest.Targets;

/// <summary>
/// A throwaway PostgreSQL server on a free loopback port, in a temporary directory, for cluster runs and tests. When
/// the machine has no PostgreSQL and this process is root, it installs Debian's package first. Disposing stops the
/// server and deletes its files.
/// </summary>
internal sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _directory;

    private PostgresServer(string bin, string directory, int port)
    {
        _bin = bin;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Connection string of the <c>granary</c> database, as its owner.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=granary;Pooling=true;Timeout=15";

    /// <summary>Starts a server with an empty <c>granary</c> database.</summary>
    public static async Task<PostgresServer> StartAsync(CancellationToken cancellationToken = default)
    {
        string bin = FindOrInstall();
        string directory = Directory.CreateTempSubdirectory("granary-pg-").FullName;
        var server = new PostgresServer(bin, directory, FreePorts.Next());
        try
        {
            if (IsRoot) await ExternalCommand.RunAsync("chown", ["-R", "postgres:postgres", directory]);
            await server.RunToolAsync("initdb", ["-D", server.DataDirectory, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]);
            await server.StartServerAsync();
            await using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={server.Port};Username=postgres;Database=postgres;Pooling=false");
            await connection.OpenAsync(cancellationToken);
            await using var create = new NpgsqlCommand("CREATE DATABASE granary", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private string DataDirectory => Path.Combine(_directory, "data");

    /// <summary>Stops the server at once (clients see connection errors until <see cref="StartServerAsync"/>).</summary>
    public Task StopServerAsync() => RunToolAsync("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]);

    /// <summary>Starts the (stopped) server again on the same port and data.</summary>
    public Task StartServerAsync() => RunToolAsync("pg_ctl",
        ["-D", DataDirectory, "-w", "-t", "60", "-l", Path.Combine(_directory, "server.log"),
         "-o", $"-p {Port} -k {_directory} -c listen_addresses=127.0.0.1 -c max_connections=300", "start"]);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Directory.Exists(DataDirectory) && File.Exists(Path.Combine(DataDirectory, "postmaster.pid"))) await StopServerAsync();
        }
        catch (InvalidOperationException)
        {
            // already stopped
        }
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private Task RunToolAsync(string tool, string[] arguments) => ExternalCommand.RunAsync(Path.Combine(_bin, tool), arguments, IsRoot ? "postgres" : null);

    private static bool IsRoot => ExternalCommand.IsRoot;

    /// <summary>The directory of initdb and pg_ctl; installs the Debian package when there is none and this is root.</summary>
    private static string FindOrInstall()
    {
        if (Find() is { } found) return found;
        if (!IsRoot) throw new InvalidOperationException("PostgreSQL is not installed (initdb not found under /usr/lib/postgresql) and this is not root to install it.");
        ExternalCommand.InstallPackageAsync("postgresql").GetAwaiter().GetResult();
        return Find() ?? throw new InvalidOperationException("Installing the postgresql package did not provide initdb.");
    }

    private static string? Find()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root)) return null;
        return Directory.GetDirectories(root)
            .Select(d => Path.Combine(d, "bin"))
            .Where(bin => File.Exists(Path.Combine(bin, "initdb")))
            .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), out int v) ? v : 0)
            .FirstOrDefault();
    }
}
