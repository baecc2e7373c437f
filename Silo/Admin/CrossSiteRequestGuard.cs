using Granary.Grains.Security;
using Microsoft.Extensions.Options;

namespace Granary.Silo.Admin;

/// <summary>
/// Keeps web pages of other sites away from the admin API, which on loopback needs no key: a browser visiting such a
/// page would otherwise send it requests on the user's behalf. Changes (POST, PUT, PATCH, DELETE) that a browser
/// marks as coming from another site (<c>Sec-Fetch-Site</c>, or an <c>Origin</c> other than the silo's) are refused
/// with 403; so is any request naming a host other than a loopback one while the API listens on loopback only without
/// a key and without security (a DNS-rebinding page reaches 127.0.0.1 under its own name). Tools such as the CLI and curl send neither header.
/// </summary>
internal sealed class CrossSiteRequestGuard(
    RequestDelegate next, IOptions<AdminOptions> options, IOptions<GranarySecurityOptions> security, IProblemDetailsService problems)
{
    // With a key, or security on, a rebinding page has no credential to send (the console keeps its key per origin).
    private readonly bool _loopbackOnly = string.IsNullOrEmpty(options.Value.ApiKey) && !security.Value.Enabled && options.Value.ListensOnLoopbackOnly;

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        string? refusal =
            _loopbackOnly && !AdminOptions.IsLoopbackHost(request.Host.Host)
                ? $"This admin API listens on loopback without a key and answers requests for loopback hosts only, not '{request.Host.Host}'. Use http://127.0.0.1 or http://localhost, or set Granary:Admin:ApiKey."
            : IsChange(request.Method) && IsCrossSite(request)
                ? "Changes from a page of another site are refused; send them from the console served by this silo, the CLI or an HTTP client."
            : null;
        if (refusal is null)
        {
            await next(context);
            return;
        }
        await AdminProblems.WriteAsync(problems, context, StatusCodes.Status403Forbidden, "Cross-site request refused", refusal, "cross-site-request");
    }

    private static bool IsChange(string method) =>
        !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method));

    private static bool IsCrossSite(HttpRequest request)
    {
        // Sent by every current browser: "same-origin" for the console's own calls, "none" for one the user typed.
        if (request.Headers["Sec-Fetch-Site"].FirstOrDefault() is { } site)
            return site is not ("same-origin" or "none");
        if (request.Headers.Origin.FirstOrDefault() is not { } origin) return false;
        return !Uri.TryCreate(origin, UriKind.Absolute, out var from)
            || !string.Equals(from.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }
}
