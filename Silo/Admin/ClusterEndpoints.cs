using Granary;
using Granary.Client;
using Granary.Silo.Admin.Models;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Granary.Silo.Admin;

/// <summary><c>/api/v1/cluster</c> and the health probes.</summary>
internal static partial class ClusterEndpoints
{
    private static readonly TimeSpan ReadinessTimeout = TimeSpan.FromSeconds(5);

    public static void MapCluster(this RouteGroupBuilder api) =>
        api.MapGet("/cluster", DescribeAsync).WithTags("Cluster").WithSummary("The silos, their load and the partitions each leads.");

    public static void MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/live", () => TypedResults.Ok(new HealthView("live"))).WithTags("Health")
            .WithSummary("200 while the silo process answers HTTP.");
        app.MapGet("/health/ready", ReadyAsync).WithTags("Health")
            .WithSummary("200 when the silo serves grain calls (it reads the topic registry); 503 with the reason otherwise.");
    }

    private static async Task<ClusterView> DescribeAsync(GranaryAdmin admin, HttpContext context, AdminAccess access, CancellationToken cancellationToken)
    {
        access.DemandOnCluster(context, Grains.Security.AclOperation.Describe);
        var silos = admin.DescribeClusterAsync(cancellationToken);
        var topics = await TopicEndpoints.ListAllAsync(admin, cancellationToken);
        var led = topics.SelectMany(t => t.Partitions).GroupBy(p => p.Leader).ToDictionary(g => g.Key, g => g.Count());
        return new ClusterView(
            [.. (await silos).Select(s => SiloView.From(s, led.GetValueOrDefault(s.Address)))],
            topics.Length,
            led.Values.Sum());
    }

    private static async Task<Results<Ok<HealthView>, JsonHttpResult<HealthView>>> ReadyAsync(
        GranaryAdmin admin, HttpContext context, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        try
        {
            await admin.ListTopicsAsync(cancellationToken).WaitAsync(ReadinessTimeout, cancellationToken);
            // Out of file descriptors, partitions cannot open their logs: not ready until it has passed for a minute.
            if (Granary.Storage.OpenFileExhaustion.SeenWithin(TimeSpan.FromMinutes(1)))
            {
                return TypedResults.Json(new HealthView("not-ready",
                    $"The silo ran out of open files at {Granary.Storage.OpenFileExhaustion.LastSeen:O}; partitions may be unavailable."),
                    statusCode: StatusCodes.Status503ServiceUnavailable);
            }
            return TypedResults.Ok(new HealthView("ready"));
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The reason, never the exception: its message may embed a stack trace (Orleans' storage errors do).
            string reason = e switch
            {
                TimeoutException => $"The topic registry did not answer within {ReadinessTimeout}.",
                GranaryException granary => ProblemText.Detail(granary.Message),
                _ => $"The topic registry failed; the silo's log has the details under trace id {context.TraceIdentifier}.",
            };
            if (e is not TimeoutException) LogNotReady(loggers.CreateLogger(typeof(ClusterEndpoints).FullName!), e, context.TraceIdentifier);
            return TypedResults.Json(new HealthView("not-ready", reason), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Not ready (trace id {TraceId}): the topic registry failed")]
    private static partial void LogNotReady(ILogger logger, Exception exception, string traceId);
}
