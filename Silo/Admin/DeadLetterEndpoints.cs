using Granary.Client;
using Granary.Silo.Admin.Models;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Granary.Silo.Admin;

/// <summary>A group's dead letters: list them with their reasons, and redrive them to their source partitions.</summary>
internal static class DeadLetterEndpoints
{
    public static void MapDeadLetters(this RouteGroupBuilder api)
    {
        var letters = api.MapGroup("/topics/{topic}/groups/{group}/dead-letters").WithTags("Dead letters");
        letters.MapGet("/", ListAsync).WithSummary(
            "Up to 'limit' (1-1000, default 100) of the group's dead letters from offset 'from' (default 0) of each dead-letter partition.");
        letters.MapPost("/redrive", RedriveAsync).WithSummary(
            "Publishes the group's dead letters in [fromOffset, toOffset) again to their source partitions, for this group only.");
    }

    private static async Task<Results<Ok<DeadLetterView[]>, ProblemHttpResult>> ListAsync(
        string topic, string group, GranaryAdmin admin, long from = 0, int limit = 100)
    {
        if (await GroupEndpoints.MissingAsync(admin, topic, group) is ProblemHttpResult missing) return missing;
        var letters = await admin.ListDeadLettersAsync(topic, group, from, limit);
        return TypedResults.Ok(letters.Select(DeadLetterView.From).ToArray());
    }

    private static async Task<Results<Ok<RedriveResult>, ProblemHttpResult>> RedriveAsync(
        string topic, string group, GranaryAdmin admin, RedriveRequest? request = null)
    {
        if (await GroupEndpoints.MissingAsync(admin, topic, group) is ProblemHttpResult missing) return missing;
        int count = await admin.RedriveAsync(topic, group, request?.FromOffset ?? 0, request?.ToOffset ?? long.MaxValue);
        return TypedResults.Ok(new RedriveResult(count));
    }
}
