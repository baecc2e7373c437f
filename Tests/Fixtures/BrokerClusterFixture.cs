using Granary.Grains.Hosting;
using Orleans.TestingHost;

namespace Granary.Tests.Fixtures;

/// <summary>
/// Two silos in one process (Orleans InProcessTestCluster) running Granary on a temporary data directory, shared
/// by the tests of a class. Leases are checked every 100 ms so redelivery tests run fast.
/// </summary>
public sealed class BrokerClusterFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new();

    public BrokerClusterFixture()
    {
        var builder = new InProcessTestClusterBuilder(initialSilosCount: 2);
        builder.ConfigureSilo((_, silo) => silo
            .AddGranary(o =>
            {
                o.DataDirectory = _data.Path;
                o.LeaseCheckInterval = TimeSpan.FromMilliseconds(100);
                o.SessionTimeout = TimeSpan.FromSeconds(15); // three of the SDK's 5 s heartbeats: one late tick on a loaded machine drops no one
            })
            // One reminder table for both silos; the file table is for a single embedded silo.
            .UseInMemoryReminderService());
        Cluster = builder.Build();
    }

    public InProcessTestCluster Cluster { get; }

    public GranaryClient Client { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        await Cluster.DeployAsync();
        Client = GranaryClient.Create(Cluster.Client);
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        _data.Dispose();
    }

    /// <summary>A topic name no other test uses.</summary>
    public static string UniqueTopic(string prefix = "t") => $"{prefix}-{Guid.NewGuid():N}";
}

[CollectionDefinition(Name)]
public sealed class BrokerCluster : ICollectionFixture<BrokerClusterFixture>
{
    public const string Name = "broker cluster";
}
