using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Granary.Tests.Fixtures;

/// <summary>Grain access for tests that reach past the SDK.</summary>
public static class SiloGrains
{
    /// <summary>
    /// A running silo's own grain factory: calls through it are silo-originated, so they may use the silo-internal
    /// grain methods that the cluster refuses to clients (the test cluster's <c>Client</c> is a real client).
    /// </summary>
    public static IGrainFactory SiloGrainFactory(this InProcessTestCluster cluster) =>
        cluster.GetActiveSilos().First().ServiceProvider.GetRequiredService<IGrainFactory>();
}
