using Granary.Client.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Granary.Client;

/// <summary>Health checks for the host's Granary client and hosted consumers.</summary>
public static class GranaryHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds two checks: <c>{name}-client</c>, the connection of the client <c>AddGranaryClient</c> registered
    /// (unhealthy before it connected and while every gateway is lost), and <c>{name}-consumers</c>, the hosted
    /// consumers of <c>AddGranaryConsumer</c> (unhealthy once one failed, with its error; degraded while one is still
    /// joining). Map them with ASP.NET Core's <c>MapHealthChecks</c> or read them from <see cref="HealthCheckService"/>.
    /// </summary>
    /// <param name="builder">From <c>services.AddHealthChecks()</c>.</param>
    /// <param name="name">The prefix of the checks' names. Default <c>granary</c>.</param>
    /// <param name="failureStatus">What a failed check reports. Default <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags for both checks (for example <c>ready</c>, to filter a readiness endpoint).</param>
    public static IHealthChecksBuilder AddGranary(this IHealthChecksBuilder builder, string name = "granary", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        builder.Add(new HealthCheckRegistration($"{name}-client",
            sp => new GranaryClientHealthCheck(sp.GetService<IGranaryClientProvider>()
                ?? throw new InvalidOperationException("The Granary health check needs a Granary client: call services.AddGranaryClient(...).")),
            failureStatus, tags));
        builder.Add(new HealthCheckRegistration($"{name}-consumers",
            sp => new GranaryConsumersHealthCheck(sp.GetService<HostedConsumerStatuses>()), failureStatus, tags));
        return builder;
    }
}
