using Granary.Grains.Hosting;
using Orleans.TestingHost;

namespace Granary.Tests.Fixtures;

/// <summary>One in-process silo running Granary on its own temporary data directory, for classes that need their own settings.</summary>
public sealed class OneSiloCluster : IAsyncDisposable
{
    private readonly TempDirectory _data = new();

    private OneSiloCluster() { }

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public GranaryClient Client { get; private set; } = null!;

    public static async Task<OneSiloCluster> StartAsync(Action<GranaryOptions>? granary = null, Action<ISiloBuilder>? silo = null, Action<IClientBuilder>? client = null)
    {
        var started = new OneSiloCluster();
        var builder = new InProcessTestClusterBuilder(initialSilosCount: 1);
        builder.ConfigureSilo((_, siloBuilder) =>
        {
            siloBuilder.AddGranary(o =>
            {
                o.DataDirectory = started._data.Path;
                granary?.Invoke(o);
            }).UseInMemoryReminderService();
            silo?.Invoke(siloBuilder);
        });
        if (client is not null) builder.ConfigureClient(client);
        started.Cluster = builder.Build();
        await started.Cluster.DeployAsync();
        started.Client = GranaryClient.Create(started.Cluster.Client);
        return started;
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        _data.Dispose();
    }
}
