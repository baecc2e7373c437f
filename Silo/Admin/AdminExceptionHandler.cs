using System.Text.Json;
using Granary;
using Microsoft.AspNetCore.Diagnostics;

namespace Granary.Silo.Admin;

/// <summary>
/// Turns every exception an admin request throws into problem details: Granary errors by their code, malformed
/// requests as 400, and anything else as a bare 500 that names no exception, only the request's trace id (the
/// silo's log has the rest).
/// </summary>
internal sealed partial class AdminExceptionHandler(IProblemDetailsService problems, ILogger<AdminExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var details = new Microsoft.AspNetCore.Mvc.ProblemDetails();
        switch (exception)
        {
            case GranaryException granary:
                (details.Status, details.Title) = AdminProblems.Describe(granary.Code);
                details.Type = AdminProblems.TypeOf(granary.Code);
                details.Detail = ProblemText.Detail(granary.Message);
                details.Extensions["code"] = granary.Code.ToString();
                details.Extensions["retriable"] = granary.IsRetriable;
                break;
            case BadHttpRequestException bad:
                details.Status = bad.StatusCode;
                details.Title = "Bad request";
                details.Type = AdminProblems.TypeBase + "bad-request";
                // The binder wraps the JSON reader's error, which says which property and line were wrong.
                details.Detail = ProblemText.Detail(bad.InnerException is JsonException json ? json.Message : bad.Message);
                break;
            case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                return true; // the caller went away; nobody reads an answer
            default:
                LogUnexpected(logger, exception, context.Request.Method, context.Request.Path);
                details.Status = StatusCodes.Status500InternalServerError;
                details.Title = "Internal error";
                details.Type = AdminProblems.TypeBase + "internal";
                details.Detail = "The silo failed to handle the request; its log has the details under this trace id.";
                break;
        }
        details.Extensions["traceId"] = context.TraceIdentifier;
        context.Response.StatusCode = details.Status.Value;
        // No Exception in the context: a writer given one may add its details (in Development, the stack trace).
        if (await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = details })) return true;
        // No writer accepts what the caller asked for (Accept: text/html): JSON all the same, rather than the
        // middleware rethrowing and Kestrel answering a bare 500 in place of the real status.
        await context.Response.WriteAsJsonAsync(details, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json", cancellationToken);
        return true;
    }

    [LoggerMessage(1, LogLevel.Error, "Admin request {Method} {Path} failed")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string method, string path);
}
