namespace Granary.Grains.Security.Jwt;

/// <summary>
/// The outcome of checking a JWT: either the principal it names and when it expires, or why it was refused.
/// </summary>
/// <param name="Principal">The principal's name (the value of <see cref="JwtOptions.PrincipalClaim"/>); null when refused.</param>
/// <param name="ExpiresAt">The token's <c>exp</c>; null when refused.</param>
/// <param name="Failure">Why the token was refused; <see cref="JwtFailureReason.None"/> when it is valid.</param>
/// <param name="Message">A sentence for logs and error replies saying why it was refused (never the token itself); null when valid.</param>
public sealed record JwtAuthentication(string? Principal, DateTimeOffset? ExpiresAt, JwtFailureReason Failure, string? Message)
{
    /// <summary>True when the token is valid and <see cref="Principal"/> is set.</summary>
    public bool Succeeded => Failure == JwtFailureReason.None;

    /// <summary>A valid token naming <paramref name="principal"/>, valid until <paramref name="expiresAt"/>.</summary>
    public static JwtAuthentication Success(string principal, DateTimeOffset expiresAt) => new(principal, expiresAt, JwtFailureReason.None, null);

    /// <summary>A refused token.</summary>
    public static JwtAuthentication Failed(JwtFailureReason reason, string message) => new(null, null, reason, message);
}
