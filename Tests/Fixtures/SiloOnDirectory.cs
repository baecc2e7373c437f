using Granary.Grains.Hosting;
using Granary.Grains.Partitions;
using Orleans.TestingHost;

namespace Granary.Tests.Fixtures;

/// <summary>
/// One in-process silo on a data directory the test owns, so a test can stop it, change the files, and start another
/// silo on the same directory (a restart).
/// </summary>
public sealed class SiloOnDirectory : IAsyncDisposable
{
    private SiloOnDirectory() { }

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public GranaryClient Client { get; private set; } = null!;

    public static async Task<SiloOnDirectory> StartAsync(string dataDirectory, Action<GranaryOptions>? granary = null)
    {
        var started = new SiloOnDirectory();
        var builder = new InProcessTestClusterBuilder(initialSilosCount: 1);
        builder.ConfigureSilo((_, silo) => silo.AddGranary(o =>
        {
            o.DataDirectory = dataDirectory;
            granary?.Invoke(o);
        }).UseInMemoryReminderService());
        started.Cluster = builder.Build();
        await started.Cluster.DeployAsync();
        started.Client = GranaryClient.Create(started.Cluster.Client);
        return started;
    }

    public ValueTask DisposeAsync() => Cluster.DisposeAsync();

    /// <summary>
    /// The log directories of a topic's partitions under <paramref name="dataDirectory"/>, in every incarnation (the
    /// current layout, <see cref="PartitionPaths"/>): for tests that damage or inspect files.
    /// </summary>
    public static string[] PartitionDirectories(string dataDirectory, string topic, int partition)
    {
        string encoded = Path.Combine(dataDirectory, "logs", PartitionPaths.EncodeName(topic));
        if (!Directory.Exists(encoded)) return [];
        return [.. Directory.GetDirectories(encoded).Select(incarnation => Path.Combine(incarnation, partition.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .Where(Directory.Exists)];
    }
}
