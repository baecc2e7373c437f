using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Granary.Cli.Api;

/// <summary>A failure to report: the message for people, the exit code for scripts, and the API's problem document when there is one.</summary>
internal sealed class CliException(int exitCode, string message, JsonNode? problem = null) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    public JsonNode? Problem { get; } = problem;

    /// <summary>From an error response of the admin API (RFC 9457 problem details, or anything else).</summary>
    public static CliException FromResponse(HttpStatusCode status, string body)
    {
        JsonNode? problem = null;
        try
        {
            problem = body.Length > 0 ? JsonNode.Parse(body) : null;
        }
        catch (JsonException)
        {
            // not problem details (a proxy's page, say): report the status alone
        }
        string title = (problem as JsonObject)?["title"]?.GetValue<string>() ?? status.ToString();
        string? detail = (problem as JsonObject)?["detail"]?.GetValue<string>();
        int code = (int)status switch
        {
            400 or 413 or 415 or 422 => ExitCodes.InvalidArgument,
            401 => ExitCodes.Unauthorized,
            403 => ExitCodes.Forbidden,
            404 => ExitCodes.NotFound,
            409 => ExitCodes.Conflict,
            503 => ExitCodes.Unavailable,
            _ => ExitCodes.ServerError,
        };
        string message = detail is null ? $"{title} (HTTP {(int)status})" : $"{title}: {detail}";
        // What to do about it, since the silo cannot know how the CLI was given its credential.
        string? type = (problem as JsonObject)?["type"]?.GetValue<string>();
        message += (int)status switch
        {
            401 => " Give an API key with --api-key or GRANARY_API_KEY (or a client certificate with --cert).",
            403 when type?.EndsWith("/not-allowed", StringComparison.Ordinal) == true => " Ask an administrator for a rule that allows it (granary acls grant).",
            _ => "",
        };
        return new CliException(code, message, problem);
    }
}
