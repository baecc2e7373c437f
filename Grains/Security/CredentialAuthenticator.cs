using Granary.Grains.Security.Jwt;

namespace Granary.Grains.Security;

/// <summary>
/// Tells who a credential is, for every door (grain calls and the admin API): a session token (<c>gs_</c>) of a
/// certificate sign-in, an API key (<c>gk_</c>) or the bootstrap key, or a JSON web token from the configured issuer.
/// Keys and session tokens are answered from memory at once; a token not seen before is validated asynchronously.
/// </summary>
public sealed class CredentialAuthenticator(SecurityCatalog catalog, SessionTokens sessions, JwtAuthenticator jwt)
{
    /// <summary>The principal <paramref name="credential"/> authenticates, or why it does not.</summary>
    public ValueTask<CredentialCheck> AuthenticateAsync(string? credential, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(credential)) return new(CredentialCheck.Missing);
        if (credential.StartsWith(SessionTokens.Prefix, StringComparison.Ordinal))
        {
            return new(sessions.Validate(credential) is { } session ? CredentialCheck.Of(session)
                : CredentialCheck.Refused("certificate session token", "The certificate session token is not valid or has expired; sign in again."));
        }
        if (catalog.AuthenticateApiKey(credential) is { } principal) return new(CredentialCheck.Of(principal));
        if (credential.StartsWith(ApiKeys.Prefix, StringComparison.Ordinal))
            return new(CredentialCheck.Refused("API key", "The API key is not valid: unknown, malformed or revoked."));
        if (JwtAuthenticator.LooksLikeJwt(credential))
        {
            return jwt.Enabled ? AuthenticateJwtAsync(credential, cancellationToken)
                : new(CredentialCheck.Refused("access token (JWT)", "The access token is not accepted: this cluster validates no JSON web tokens (Granary:Security:Jwt is not configured)."));
        }
        return new(CredentialCheck.Refused("credential", "The credential is not accepted: it is neither a valid API key (gk_...), the bootstrap key, a session token nor an access token."));
    }

    private async ValueTask<CredentialCheck> AuthenticateJwtAsync(string token, CancellationToken cancellationToken)
    {
        var result = await jwt.AuthenticateAsync(token, cancellationToken).ConfigureAwait(false);
        if (result is { Succeeded: true, Principal: { } name } && PrincipalNames.IsValid(name))
            return CredentialCheck.Of(new Principal(name, AuthenticationKind.Jwt));
        return CredentialCheck.Refused("access token (JWT)", result?.Message is { } message
            ? $"The access token is not accepted: {message}"
            : "The access token is not accepted: its principal claim is not a usable principal name.");
    }
}

/// <summary>The outcome of <see cref="CredentialAuthenticator.AuthenticateAsync"/>.</summary>
/// <param name="Principal">Who the credential is; null when it authenticates no one.</param>
/// <param name="Kind">What the credential looked like ("API key", "access token (JWT)", ...; "none" when missing), for logs.</param>
/// <param name="Failure">Why it authenticates no one, fit to show the caller (it never repeats the credential).</param>
public readonly record struct CredentialCheck(Principal? Principal, string Kind, string? Failure)
{
    /// <summary>No credential at all.</summary>
    public static CredentialCheck Missing { get; } = new(null, "none", null);

    /// <summary>The credential authenticates <paramref name="principal"/>.</summary>
    public static CredentialCheck Of(Principal principal) => new(principal, "", null);

    /// <summary>A <paramref name="kind"/> of credential that authenticates no one, and why.</summary>
    public static CredentialCheck Refused(string kind, string failure) => new(null, kind, failure);
}
