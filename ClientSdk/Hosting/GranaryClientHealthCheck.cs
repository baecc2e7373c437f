using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Granary.Client.Internal;

/// <summary>
/// The client's connection: unhealthy before it connected (or after its connect failed) and while it has lost every
/// gateway; healthy when connected, with the number of gateways it is connected to.
/// </summary>
internal sealed class GranaryClientHealthCheck(IGranaryClientProvider provider) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (provider.Connected is not { } client)
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, "The Granary client is not connected (yet)."));
        var state = client.ConnectionState;
        var data = new Dictionary<string, object> { ["gateways"] = state.Gateways };
        return Task.FromResult(state.IsLost
            ? new HealthCheckResult(context.Registration.FailureStatus, "The Granary client lost every gateway; calls fail until one is back.", data: data)
            : HealthCheckResult.Healthy("Connected to the Granary cluster.", data));
    }
}
