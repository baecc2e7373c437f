using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Granary.Client.Internal;

/// <summary>
/// The hosted consumers (<c>AddGranaryConsumer</c>): unhealthy once one failed (its error is the check's), degraded
/// while one is still connecting or joining, healthy when all run (or the host has none).
/// </summary>
internal sealed class GranaryConsumersHealthCheck(HostedConsumerStatuses? statuses = null) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var all = statuses?.All.ToList() ?? [];
        var data = all.ToDictionary(s => s.Name, s => (object)s.Current.ToString());
        if (all.FirstOrDefault(s => s.Current == HostedConsumerStatuses.State.Failed) is { } failed)
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, $"The hosted consumer of {failed.Name} failed: {failed.Error?.Message}", failed.Error, data));
        if (all.Any(s => s.Current == HostedConsumerStatuses.State.Starting))
            return Task.FromResult(HealthCheckResult.Degraded("A hosted consumer is still connecting or joining its group.", data: data));
        return Task.FromResult(HealthCheckResult.Healthy($"{all.Count(s => s.Current == HostedConsumerStatuses.State.Running)} hosted consumers run.", data));
    }
}
