using Granary;
using Granary.Client;
using Granary.Grains;
using Granary.Silo.Admin.Models;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Granary.Silo.Admin;

/// <summary>Consumer groups: list, describe, lag and seek.</summary>
internal static class GroupEndpoints
{
    public static void MapGroups(this RouteGroupBuilder api)
    {
        api.MapGet("/groups", ListAllAsync).WithTags("Groups").WithSummary("Every topic's consumer groups with their members and lag.");
        var groups = api.MapGroup("/topics/{topic}/groups").WithTags("Groups");
        groups.MapGet("/", ListAsync).WithSummary("A topic's consumer groups with their members and lag.");
        groups.MapGet("/{group}", DescribeAsync).WithSummary("A group's settings, members, assignment and lag per partition.");
        groups.MapGet("/{group}/lag", LagAsync).WithSummary("A group's lag per partition.");
        groups.MapPost("/{group}/seek", SeekAsync).WithSummary(
            "Moves a group to the earliest or latest message, an offset (all partitions or one) or a time; returns the lag after.");
    }

    private static async Task<GroupView[]> ListAllAsync(GranaryAdmin admin, HttpContext context, AdminAccess access, CancellationToken cancellationToken)
    {
        // Bounded like the topic listing: thousands of topics must not become thousands of concurrent grain calls.
        var topics = await admin.ListTopicsAsync(cancellationToken);
        var perTopic = new GroupView[topics.Length][];
        await Parallel.ForAsync(0, topics.Length,
            new ParallelOptions { MaxDegreeOfParallelism = TopicEndpoints.ParallelDescribes, CancellationToken = cancellationToken }, async (i, _) =>
            {
                try
                {
                    perTopic[i] = await ViewsAsync(admin, topics[i], context, access);
                }
                catch (GranaryException e) when (e.Code == GranaryErrorCode.TopicNotFound)
                {
                    perTopic[i] = []; // deleted since it was listed
                }
            });
        return [.. perTopic.SelectMany(g => g)];
    }

    private static Task<GroupView[]> ListAsync(string topic, GranaryAdmin admin, HttpContext context, AdminAccess access) =>
        ViewsAsync(admin, topic, context, access);

    /// <summary>The views of the topic's groups that the request's principal may describe: a listing leaves the others out rather than fail.</summary>
    private static async Task<GroupView[]> ViewsAsync(GranaryAdmin admin, string topic, HttpContext context, AdminAccess access)
    {
        var groups = await admin.ListGroupsAsync(topic);
        return await Task.WhenAll(groups
            .Where(group => access.IsAllowed(context, Grains.Security.ResourceType.Group, $"{topic}/{group}", Grains.Security.AclOperation.Describe))
            .Select(group => ViewAsync(admin, topic, group)));
    }

    private static async Task<GroupView> ViewAsync(GranaryAdmin admin, string topic, string group)
    {
        var description = admin.DescribeGroupAsync(topic, group);
        var lag = admin.GetLagAsync(topic, group);
        return GroupView.From(await description, await lag, DateTimeOffset.UtcNow);
    }

    /// <summary>Null when the topic has the group; else the 404 to answer (a group only exists once a member joined).</summary>
    internal static async Task<IResult?> MissingAsync(GranaryAdmin admin, string topic, string group) =>
        (await admin.ListGroupsAsync(topic)).Contains(group, StringComparer.Ordinal) ? null
        : AdminProblems.NotFound("group", $"Topic '{topic}' has no consumer group '{group}'.");

    private static async Task<Results<Ok<GroupView>, ProblemHttpResult>> DescribeAsync(string topic, string group, GranaryAdmin admin) =>
        await MissingAsync(admin, topic, group) is ProblemHttpResult missing ? missing : TypedResults.Ok(await ViewAsync(admin, topic, group));

    private static async Task<Results<Ok<LagView>, ProblemHttpResult>> LagAsync(string topic, string group, GranaryAdmin admin) =>
        await MissingAsync(admin, topic, group) is ProblemHttpResult missing ? missing
        : TypedResults.Ok(LagView.From(await admin.GetLagAsync(topic, group), DateTimeOffset.UtcNow));

    private static async Task<Results<Ok<LagView>, ProblemHttpResult>> SeekAsync(string topic, string group, SeekRequest request, GranaryAdmin admin)
    {
        if (await MissingAsync(admin, topic, group) is ProblemHttpResult missing) return missing;
        // "required" keeps the property from being left out, not from being null.
        SeekTarget target = request.To?.ToLowerInvariant() switch
        {
            null => throw new GranaryException(GranaryErrorCode.InvalidArgument, "'to' is null; it must be earliest, latest, offset or timestamp."),
            "earliest" => SeekTarget.Earliest,
            "latest" => SeekTarget.Latest,
            "offset" => SeekTarget.ToOffset(request.Offset ?? throw new GranaryException(GranaryErrorCode.InvalidArgument, "Seek to an offset needs 'offset'."), request.Partition),
            "timestamp" => SeekTarget.ToTimestamp(request.Timestamp ?? throw new GranaryException(GranaryErrorCode.InvalidArgument, "Seek to a time needs 'timestamp'.")),
            _ => throw new GranaryException(GranaryErrorCode.InvalidArgument, $"'to' is '{EchoedInput.Of(request.To)}'; it must be earliest, latest, offset or timestamp."),
        };
        if (request.Partition is not null && target.Kind != SeekKind.Offset)
            throw new GranaryException(GranaryErrorCode.InvalidArgument, "'partition' goes only with a seek to an offset.");
        await admin.SeekAsync(topic, group, target);
        return TypedResults.Ok(LagView.From(await admin.GetLagAsync(topic, group), DateTimeOffset.UtcNow));
    }
}
