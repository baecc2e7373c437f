using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Granary.Silo.Admin;

/// <summary>
/// With <see cref="AdminOptions.ApiKey"/> set, refuses API and metrics requests without that key (401, problem details).
/// Health probes and the console's static files stay open: they show no data, and the console sends the key with
/// every API call it makes.
/// </summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, IOptions<AdminOptions> options, IProblemDetailsService problems)
{
    private const string HeaderName = "X-Api-Key";
    private readonly byte[]? _key = options.Value.ApiKey is { Length: > 0 } key ? Encoding.UTF8.GetBytes(key) : null;

    public async Task InvokeAsync(HttpContext context)
    {
        if (_key is null || !NeedsKey(context.Request.Path) || HasKey(context.Request))
        {
            await next(context);
            return;
        }
        context.Response.Headers.WWWAuthenticate = "ApiKey header=\"X-Api-Key\"";
        await AdminProblems.WriteAsync(problems, context, StatusCodes.Status401Unauthorized, "API key required",
            $"Send the silo's admin API key in an {HeaderName} header.", "unauthorized");
    }

    private static bool NeedsKey(PathString path) =>
        path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments("/metrics", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/openapi", StringComparison.OrdinalIgnoreCase);

    private bool HasKey(HttpRequest request)
    {
        string? given = request.Headers[HeaderName].FirstOrDefault();
        if (given is null && request.Headers.Authorization.FirstOrDefault() is { } authorization
            && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            given = authorization["Bearer ".Length..].Trim();
        return given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), _key);
    }
}
