using Granary.LoadTest.Targets;

namespace Granary.Tests.Cluster;

/// <summary>One throwaway PostgreSQL server for the cluster tests; each test uses its own database.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? _server;
    private int _databases;

    internal PostgresServer Server => _server ?? throw new InvalidOperationException("not started");

    public async ValueTask InitializeAsync() => _server = await PostgresServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    /// <summary>A new empty database on the server; its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        string name = $"test{Interlocked.Increment(ref _databases)}";
        // Not pooled: a test that stops the server leaves dead connections in a pool, and the next test would get one.
        await using var connection = new Npgsql.NpgsqlConnection(Server.ConnectionString.Replace("Pooling=true", "Pooling=false", StringComparison.Ordinal));
        await connection.OpenAsync();
        await using var create = new Npgsql.NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await create.ExecuteNonQueryAsync();
        return Server.ConnectionString.Replace("Database=granary", $"Database={name}", StringComparison.Ordinal);
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}

/// <summary>
/// The failover tests on a PostgreSQL server of their own: one of them stops its server, and they take minutes, so
/// they run beside the other cluster tests (another collection) instead of after them.
/// </summary>
[CollectionDefinition(Name)]
public sealed class PostgresFailoverCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres failover";
}

/// <summary>Real silo processes in cluster mode on one database, each with its own data directory and node name.</summary>
internal sealed class SiloCluster : IAsyncDisposable
{
    private readonly TempDirectory _data = new();
    private readonly string _connectionString;

    private SiloCluster(string connectionString) => _connectionString = connectionString;

    public List<SiloProcess> Silos { get; } = [];

    public static async Task<SiloCluster> StartAsync(PostgresFixture postgres, int silos)
    {
        var cluster = new SiloCluster(await postgres.CreateDatabaseAsync());
        for (int i = 0; i < silos; i++) cluster.Add();
        foreach (var silo in cluster.Silos) silo.Start();
        return cluster;
    }

    /// <summary>Adds (does not start) a silo named <c>node{n}</c>.</summary>
    public SiloProcess Add()
    {
        int n = Silos.Count;
        var silo = SiloProcess.ClusterMember(System.IO.Path.Combine(_data.Path, $"node{n}"), _connectionString, $"node{n}");
        Silos.Add(silo);
        return silo;
    }

    /// <summary>A client that knows every silo's gateway (a dead one is skipped).</summary>
    public Task<GranaryClient> ConnectAsync() => GranaryClient.ConnectAsync(new GranaryClientOptions
    {
        Gateways = Silos.Select(s => $"127.0.0.1:{s.GatewayPort}").ToList(),
        ConnectTimeout = TimeSpan.FromSeconds(120),
        RetryRefusedConnections = true,
    });

    /// <summary>Waits until every silo has joined, then connects and creates <paramref name="topic"/> (replicated to 3 by default).</summary>
    public async Task<GranaryClient> ConnectWithTopicAsync(string topic, int partitions)
    {
        var client = await ConnectAsync();
        await ClusterWorkload.WaitForSilosAsync(client, Silos.Count);
        await client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = partitions });
        return client;
    }

    /// <summary>A client that finds the gateways in the membership table.</summary>
    public Task<GranaryClient> ConnectThroughDatabaseAsync() => GranaryClient.ConnectAsync(new GranaryClientOptions
    {
        ConnectionString = _connectionString,
        ConnectTimeout = TimeSpan.FromSeconds(120),
        RetryRefusedConnections = true,
    });

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in Silos) await silo.DisposeAsync();
        _data.Dispose();
    }
}
