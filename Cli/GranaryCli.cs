using System.CommandLine;
using System.Net.Http.Headers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Granary.Cli.Api;
using Granary.Cli.Commands;

namespace Granary.Cli;

/// <summary>
/// <c>granary</c>: topics, groups, dead letters, the cluster, API keys, permission rules and the audit log, over a
/// silo's admin HTTP API. Tables for people,
/// <c>--json</c> for scripts, and exit codes (<see cref="ExitCodes"/>) that say what failed.
/// </summary>
public static class GranaryCli
{
    /// <summary>Default admin URL when neither <c>--url</c> nor <c>GRANARY_URL</c> is given.</summary>
    public const string DefaultUrl = "http://127.0.0.1:30080";

    internal static readonly Option<string> Url = new("--url")
    {
        Description = $"The silo's admin API (default: $GRANARY_URL, else {DefaultUrl}).",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("GRANARY_URL") is { Length: > 0 } url ? url : DefaultUrl,
    };

    internal static readonly Option<string?> ApiKey = new("--api-key")
    {
        Description = "An API key (gk_..., or the bootstrap key) when the silo has security on, or its admin key (default: $GRANARY_API_KEY).",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("GRANARY_API_KEY"),
    };

    internal static readonly Option<bool> Json = new("--json") { Description = "Print the API's JSON instead of a table.", Recursive = true };

    internal static readonly Option<string?> Ca = new("--ca")
    {
        Description = "PEM file of the CA that issued the silo's admin HTTPS certificate, trusted instead of the system's CAs (default: $GRANARY_CA).",
        Recursive = true,
        DefaultValueFactory = _ => NullIfEmpty(Environment.GetEnvironmentVariable("GRANARY_CA")),
    };

    internal static readonly Option<string?> Certificate = new("--cert")
    {
        Description = "Client certificate (PEM, or .pfx/.p12) for an admin API that requires one (default: $GRANARY_CERT).",
        Recursive = true,
        DefaultValueFactory = _ => NullIfEmpty(Environment.GetEnvironmentVariable("GRANARY_CERT")),
    };

    internal static readonly Option<string?> Key = new("--key")
    {
        Description = "PEM private key of --cert, when it is not in the same file (default: $GRANARY_KEY).",
        Recursive = true,
        DefaultValueFactory = _ => NullIfEmpty(Environment.GetEnvironmentVariable("GRANARY_KEY")),
    };

    // Output for people and scripts, not for embedding in HTML: '+' in a time stays '+'.
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Runs one command line; returns the exit code. <paramref name="output"/> gets results, <paramref name="error"/> failures.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var root = new RootCommand("granary: manage a Granary cluster through a silo's admin API.")
        {
            TopicCommands.Build(output),
            GroupCommands.Build(output),
            DeadLetterCommands.Build(output),
            ClusterCommands.Build(output),
            KeyCommands.Build(output, error),
            AclCommands.Build(output),
            AuditCommands.Build(output),
            WhoAmICommand.Build(output),
        };
        root.Options.Add(Url);
        root.Options.Add(ApiKey);
        root.Options.Add(Json);
        root.Options.Add(Ca);
        root.Options.Add(Certificate);
        root.Options.Add(Key);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var parseError in parse.Errors) await error.WriteLineAsync($"granary: {parseError.Message}");
            await error.WriteLineAsync("Run 'granary --help' for usage.");
            return ExitCodes.Usage;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false }, cancellationToken);
        }
        catch (CliException e)
        {
            if (parse.GetValue(Json) && e.Problem is not null) await output.WriteLineAsync(e.Problem.ToJsonString(Indented));
            await error.WriteLineAsync($"granary: {e.Message}");
            return e.ExitCode;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // An answer this CLI cannot read (another version's API, a proxy's page): a message, not a stack trace.
            await error.WriteLineAsync($"granary: unexpected failure ({e.GetType().Name}): {e.Message}");
            return ExitCodes.ServerError;
        }
    }

    /// <summary>The action of a command: an API client for the parsed URL and key, then <paramref name="run"/>.</summary>
    internal static Func<ParseResult, CancellationToken, Task<int>> Action(Func<ParseResult, AdminApiClient, CancellationToken, Task> run) =>
        async (parse, cancellationToken) =>
        {
            string url = parse.GetValue(Url)!;
            if (!Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
                throw new CliException(ExitCodes.Usage, $"--url: '{url}' is not an http:// or https:// URL.");
            using var http = new HttpClient(AdminTls.Handler(baseAddress, parse.GetValue(Ca), parse.GetValue(Certificate), parse.GetValue(Key)))
            {
                BaseAddress = baseAddress,
                Timeout = TimeSpan.FromSeconds(60),
            };
            if (parse.GetValue(ApiKey) is { Length: > 0 } key) http.DefaultRequestHeaders.Add("X-Api-Key", key);
            http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            await run(parse, new AdminApiClient(http), cancellationToken);
            return ExitCodes.Ok;
        };

    /// <summary>With <c>--json</c>, prints <paramref name="body"/> and returns true; the caller prints a table otherwise.</summary>
    internal static bool WroteJson(ParseResult parse, TextWriter output, JsonNode? body)
    {
        if (!parse.GetValue(Json)) return false;
        output.WriteLine(body?.ToJsonString(Indented) ?? "null");
        return true;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>A name for a URL path segment.</summary>
    internal static string Segment(string name) => Uri.EscapeDataString(name);
}
