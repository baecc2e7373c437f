using System.Text.Json;
using System.Text.Json.Nodes;
using Granary;
using Granary.Client;
using Granary.Grains;
using Granary.Silo.Admin.Models;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Granary.Silo.Admin;

/// <summary><c>/api/v1/topics</c>: list, create, describe, alter and delete topics.</summary>
internal static class TopicEndpoints
{
    // Describing a topic asks each of its partitions; this many topics at a time keeps a large list from flooding the silo.
    internal const int ParallelDescribes = 16;

    public static void MapTopics(this RouteGroupBuilder api)
    {
        var topics = api.MapGroup("/topics").WithTags("Topics");
        topics.MapGet("/", ListAsync).WithSummary("All topics with their settings, sizes and partitions, by name.");
        topics.MapPost("/", CreateAsync).WithSummary("Creates a topic.");
        topics.MapGet("/{name}", DescribeAsync).WithSummary("A topic's settings, groups, and each partition's offsets, size, leader and replicas.");
        topics.MapPatch("/{name}", AlterAsync).WithSummary(
            "Changes a topic's settings (JSON merge patch: a value sets, null clears, absent keeps). Partitions can be added; " +
            "replication, dedup window, overflow and expiry policies are fixed at creation.")
            .Accepts<TopicSettings>("application/merge-patch+json", "application/json");
        topics.MapDelete("/{name}", DeleteAsync).WithSummary("Deletes a topic with its messages and groups.");
    }

    private static Task<TopicView[]> ListAsync(GranaryAdmin admin, CancellationToken cancellationToken) => ListAllAsync(admin, cancellationToken);

    /// <summary>Every topic's view, a bounded number described at a time; topics deleted meanwhile are left out.</summary>
    internal static async Task<TopicView[]> ListAllAsync(GranaryAdmin admin, CancellationToken cancellationToken)
    {
        var names = await admin.ListTopicsAsync(cancellationToken);
        var views = new TopicView?[names.Length];
        await Parallel.ForAsync(0, names.Length, new ParallelOptions { MaxDegreeOfParallelism = ParallelDescribes, CancellationToken = cancellationToken },
            async (i, _) => views[i] = await DescribeIfExistsAsync(admin, names[i]));
        return [.. views.OfType<TopicView>()];
    }

    /// <summary>A topic's view, or null when it was deleted since it was listed.</summary>
    internal static async Task<TopicView?> DescribeIfExistsAsync(GranaryAdmin admin, string name)
    {
        try
        {
            return TopicView.From(await admin.DescribeTopicAsync(name));
        }
        catch (GranaryException e) when (e.Code == GranaryErrorCode.TopicNotFound)
        {
            return null;
        }
    }

    private static async Task<Created<TopicView>> CreateAsync(CreateTopicRequest request, GranaryAdmin admin)
    {
        await admin.CreateTopicAsync(request.Name, request.ToOptions());
        return TypedResults.Created($"/api/v1/topics/{Uri.EscapeDataString(request.Name)}", TopicView.From(await admin.DescribeTopicAsync(request.Name)));
    }

    private static async Task<TopicView> DescribeAsync(string name, GranaryAdmin admin) => TopicView.From(await admin.DescribeTopicAsync(name));

    private static async Task<TopicView> AlterAsync(string name, HttpRequest request, GranaryAdmin admin, IOptions<JsonOptions> json)
    {
        JsonObject patch;
        try
        {
            patch = await JsonNode.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted) as JsonObject
                ?? throw new GranaryException(GranaryErrorCode.InvalidArgument, "The body must be a JSON object of settings to change.");
        }
        catch (JsonException e)
        {
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"The body is not valid JSON: {e.Message}");
        }
        await admin.AlterTopicAsync(name, current => Apply(current, patch, json.Value.SerializerOptions));
        return TopicView.From(await admin.DescribeTopicAsync(name));
    }

    /// <summary>Applies a JSON merge patch (RFC 7396) of <see cref="TopicSettings"/> properties to a topic's settings.</summary>
    internal static TopicConfig Apply(TopicConfig config, JsonObject patch, JsonSerializerOptions json)
    {
        foreach (var (property, value) in patch)
        {
            config = property switch
            {
                "partitions" => config with { Partitions = Required<int>(property, value, json) },
                "maxMessageBytes" => config with { MaxMessageBytes = Required<int>(property, value, json) },
                "retentionTime" => config with { RetentionTime = Optional<TimeSpan>(property, value, json) },
                "retentionBytes" => config with { RetentionBytes = Optional<long>(property, value, json) },
                "defaultTimeToLive" => config with { DefaultTimeToLive = Optional<TimeSpan>(property, value, json) },
                "expiredMessages" => config with { ExpiredMessages = Required<ExpiredMessageAction>(property, value, json) },
                "overflow" => config with { Overflow = Required<OverflowPolicy>(property, value, json) },
                "dedupWindow" => config with { DedupWindow = Optional<TimeSpan>(property, value, json) },
                "replicationFactor" => config with { ReplicationFactor = Optional<int>(property, value, json) },
                "minInSyncReplicas" => config with { MinInSyncReplicas = Optional<int>(property, value, json) },
                _ => throw new GranaryException(GranaryErrorCode.InvalidArgument,
                    $"'{EchoedInput.Of(property)}' is not a topic setting; settings are partitions, maxMessageBytes, retentionTime, retentionBytes, defaultTimeToLive, expiredMessages, overflow, dedupWindow, replicationFactor and minInSyncReplicas."),
            };
        }
        return config;
    }

    private static T Required<T>(string property, JsonNode? value, JsonSerializerOptions json) where T : struct =>
        Optional<T>(property, value, json) ?? throw new GranaryException(GranaryErrorCode.InvalidArgument, $"'{property}' can't be cleared; give a value.");

    private static T? Optional<T>(string property, JsonNode? value, JsonSerializerOptions json) where T : struct
    {
        if (value is null) return null;
        try
        {
            return value.Deserialize<T>(json);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"'{property}' has an invalid value {EchoedInput.Of(value.ToJsonString())}: {e.Message}");
        }
    }

    private static async Task<NoContent> DeleteAsync(string name, GranaryAdmin admin)
    {
        await admin.DeleteTopicAsync(name);
        return TypedResults.NoContent();
    }
}
