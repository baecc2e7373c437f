namespace Granary.Grains.Security.Jwt;

/// <summary>Why a token that looks like a JWT was refused.</summary>
public enum JwtFailureReason
{
    /// <summary>Not refused: the token is valid.</summary>
    None = 0,

    /// <summary>The token cannot be read as a signed JWT (bad base64url, bad JSON, too large).</summary>
    Malformed,

    /// <summary>The token's <c>exp</c> has passed (beyond the allowed clock skew).</summary>
    Expired,

    /// <summary>The token's <c>nbf</c> is still in the future, or its lifetime is inconsistent.</summary>
    NotYetValid,

    /// <summary>The token has no <c>exp</c> claim; tokens that never expire are refused.</summary>
    MissingExpiry,

    /// <summary>The signature does not verify with any of the issuer's keys, or the token is unsigned.</summary>
    InvalidSignature,

    /// <summary>The token is signed with an algorithm other than RS/PS/ES 256-512 (for example <c>none</c> or HS256).</summary>
    AlgorithmNotAllowed,

    /// <summary>The token's <c>iss</c> is not the configured issuer.</summary>
    WrongIssuer,

    /// <summary>The token's <c>aud</c> does not include the configured audience.</summary>
    WrongAudience,

    /// <summary>The token lacks the configured principal claim, or its value is not a usable name.</summary>
    MissingPrincipalClaim,

    /// <summary>The issuer's signing keys could not be obtained (metadata unreachable, key file unreadable).</summary>
    KeysUnavailable,

    /// <summary>Refused for another reason the validation library gave.</summary>
    Invalid,
}
