using Granary;

namespace Granary.Silo.Admin;

/// <summary>How the admin API reports errors: RFC 9457 problem details whose <c>type</c> names the error code.</summary>
internal static class AdminProblems
{
    /// <summary>Prefix of every problem type; the rest is the error in kebab case (<c>topic-not-found</c>).</summary>
    public const string TypeBase = "https://granary.dev/problems/";

    /// <summary>HTTP status and title for a Granary error.</summary>
    public static (int Status, string Title) Describe(GranaryErrorCode code) => code switch
    {
        GranaryErrorCode.TopicNotFound => (StatusCodes.Status404NotFound, "Topic not found"),
        GranaryErrorCode.GroupNotFound => (StatusCodes.Status404NotFound, "Group not found"),
        GranaryErrorCode.TopicAlreadyExists => (StatusCodes.Status409Conflict, "Topic already exists"),
        GranaryErrorCode.InvalidName => (StatusCodes.Status400BadRequest, "Invalid name"),
        GranaryErrorCode.InvalidArgument => (StatusCodes.Status400BadRequest, "Invalid argument"),
        GranaryErrorCode.MessageTooLarge => (StatusCodes.Status400BadRequest, "Message too large"),
        GranaryErrorCode.DiskFull => (StatusCodes.Status507InsufficientStorage, "Disk full"),
        GranaryErrorCode.CorruptData => (StatusCodes.Status500InternalServerError, "Corrupt data"),
        GranaryErrorCode.NotAllowed => (StatusCodes.Status403Forbidden, "Not allowed"),
        GranaryErrorCode.Unauthenticated => (StatusCodes.Status401Unauthorized, "Unauthenticated"),
        GranaryErrorCode.NotFound => (StatusCodes.Status404NotFound, "Not found"),
        GranaryErrorCode.PartitionUnavailable or GranaryErrorCode.NotEnoughReplicas or GranaryErrorCode.Timeout or GranaryErrorCode.QueueFull or GranaryErrorCode.NotLeader
            => (StatusCodes.Status503ServiceUnavailable, "Temporarily unavailable"),
        _ => (StatusCodes.Status400BadRequest, code.ToString()),
    };

    /// <summary>The problem type of an error code: <c>TopicNotFound</c> → <c>…/topic-not-found</c>.</summary>
    public static string TypeOf(GranaryErrorCode code) => TypeBase + Kebab(code.ToString());

    /// <summary>A 404 for something the admin API looked up itself (a group the topic does not have).</summary>
    public static IResult NotFound(string kind, string detail) =>
        Results.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: $"{char.ToUpperInvariant(kind[0])}{kind[1..]} not found", type: TypeBase + $"{kind}-not-found");

    /// <summary>A 400 for a request the admin API refused before asking the cluster.</summary>
    public static IResult BadRequest(string detail) =>
        Results.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid argument", type: TypeOf(GranaryErrorCode.InvalidArgument));

    /// <summary>Answers a request from middleware (before any endpoint) with a problem of type <c>…/{type}</c>.</summary>
    public static async Task WriteAsync(IProblemDetailsService problems, HttpContext context, int status, string title, string detail, string type)
    {
        context.Response.StatusCode = status;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = title, Detail = detail, Type = TypeBase + type },
        });
    }

    private static string Kebab(string pascal) =>
        string.Concat(pascal.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
