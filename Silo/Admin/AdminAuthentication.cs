using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Granary.Grains.Security;
using Microsoft.Extensions.Options;

namespace Granary.Silo.Admin;

/// <summary>
/// Who an admin request comes from. With <c>Granary:Security:Enabled</c> on, every API, OpenAPI and metrics request
/// needs a credential: an API key (or the bootstrap key) in an <c>X-Api-Key</c> header, an API key or access token (JWT) as
/// <c>Authorization: Bearer</c>, or a client certificate on an https URL with client certificates (the TLS layer has
/// checked its chain; the principal is its subject's common name). No credential, or one that is unknown, malformed or
/// revoked, is answered 401 (problem details, never repeating what was sent). The principal goes into the request
/// (<see cref="AdminPrincipal"/>) and into the grain calls it makes (<see cref="OnBehalfOf"/>), so that the silo's
/// gate authorizes them as that principal. Metrics need Describe on the cluster.
/// With security off: the legacy <see cref="AdminOptions.ApiKey"/>, when set, is the one key of the API, and every
/// request is <see cref="Principal.Anonymous"/>. Health probes and the console's static files stay open: they show no
/// data, and the console sends the key with every API call it makes.
/// </summary>
internal sealed class AdminAuthentication(
    RequestDelegate next, IOptions<AdminOptions> options, IOptions<GranarySecurityOptions> security, SecurityCatalog catalog, CredentialAuthenticator credentials, IProblemDetailsService problems)
{
    /// <summary>The header that carries an API key.</summary>
    public const string HeaderName = "X-Api-Key";

    private const string Challenge = "ApiKey header=\"X-Api-Key\", Bearer";
    private readonly bool _securityEnabled = security.Value.Enabled;
    private readonly byte[]? _legacyKey = options.Value.ApiKey is { Length: > 0 } key ? Encoding.UTF8.GetBytes(key) : null;

    public async Task InvokeAsync(HttpContext context)
    {
        if (!NeedsCredential(context.Request.Path))
        {
            await next(context);
            return;
        }
        if (!_securityEnabled)
        {
            if (_legacyKey is null || Credential(context.Request) is { } given && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), _legacyKey))
            {
                AdminPrincipal.Set(context, Principal.Anonymous);
                await next(context);
                return;
            }
            await RefuseAsync(context, "API key required", $"Send the silo's admin API key in an {HeaderName} header.");
            return;
        }

        string? credential = Credential(context.Request);
        var check = credential is not null ? await credentials.AuthenticateAsync(credential, context.RequestAborted) : default;
        Principal? principal = credential is not null ? check.Principal : CertificatePrincipal(context.Connection.ClientCertificate);
        if (principal is null)
        {
            await RefuseAsync(context, credential is null ? "Credential required" : "Credential not accepted", credential is null
                ? $"Security is on: send an API key in an {HeaderName} header (or an API key or access token as Authorization: Bearer), or a client certificate over https."
                : check.Failure ?? "The credential is not accepted.");
            return;
        }
        AdminPrincipal.Set(context, principal);
        if (IsMetrics(context.Request.Path) && !catalog.IsAllowed(principal, ResourceType.Cluster, AclRule.Any, AclOperation.Describe))
        {
            await AdminProblems.WriteAsync(problems, context, StatusCodes.Status403Forbidden, "Not allowed",
                $"Principal '{principal.Name}' may not read the metrics: it needs Describe on the cluster.", "not-allowed");
            return;
        }
        // The endpoints' grain calls run in this flow: the gate authorizes each as this principal.
        OnBehalfOf.Set(principal);
        await next(context);
    }

    private static bool NeedsCredential(PathString path) =>
        path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) || IsMetrics(path)
        || path.StartsWithSegments("/openapi", StringComparison.OrdinalIgnoreCase);

    private static bool IsMetrics(PathString path) => path.StartsWithSegments("/metrics", StringComparison.OrdinalIgnoreCase);

    /// <summary>The key in <c>X-Api-Key</c>, else the token of <c>Authorization: Bearer</c>, else null.</summary>
    private static string? Credential(HttpRequest request)
    {
        if (request.Headers[HeaderName].FirstOrDefault() is { Length: > 0 } key) return key.Trim();
        if (request.Headers.Authorization.FirstOrDefault() is { } authorization && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return authorization["Bearer ".Length..].Trim();
        return null;
    }

    /// <summary>
    /// The principal of a client certificate, which Kestrel only lets through after it checked its chain against
    /// <see cref="AdminOptions.ClientCertificateCaPath"/>: the subject's common name, when it is a usable principal name.
    /// </summary>
    private static Principal? CertificatePrincipal(X509Certificate2? certificate)
    {
        if (certificate is null) return null;
        string name = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return PrincipalNames.IsValid(name) && name != Principal.BootstrapName ? new Principal(name, AuthenticationKind.Certificate) : null;
    }

    private async Task RefuseAsync(HttpContext context, string title, string detail)
    {
        context.Response.Headers.WWWAuthenticate = Challenge;
        await AdminProblems.WriteAsync(problems, context, StatusCodes.Status401Unauthorized, title, detail, "unauthorized");
    }
}
