namespace Granary.Grains.Security.Jwt;

/// <summary>
/// The JWT door: clients may authenticate with a JSON Web Token from one configured OpenID Connect issuer. Bound from
/// <c>Granary:Security:Jwt</c>; off while <see cref="Issuer"/> is unset.
/// </summary>
public sealed class JwtOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Granary:Security:Jwt";

    /// <summary>
    /// The issuer tokens must name in their <c>iss</c> claim, compared exactly (ordinal, trailing slash included), e.g.
    /// <c>https://login.example.com/realms/granary</c>. Setting it turns the JWT door on; required when any other
    /// setting of the section is given. Default none.
    /// </summary>
    public string? Issuer { get; set; }

    /// <summary>The audience tokens must carry in their <c>aud</c> claim (what the issuer calls Granary). Required. Default none.</summary>
    public string? Audience { get; set; }

    /// <summary>
    /// The issuer's OpenID Connect discovery document, e.g. <c>https://issuer/.well-known/openid-configuration</c>: its
    /// <c>jwks_uri</c> gives the signing keys, fetched once, refreshed every <see cref="MetadataAutomaticRefreshInterval"/>
    /// and when a token names a key id not yet known. https unless <see cref="RequireHttpsMetadata"/> is false. Exactly one
    /// of this and <see cref="SigningKeysPath"/>. Default none.
    /// </summary>
    public string? MetadataAddress { get; set; }

    /// <summary>
    /// A JSON Web Key Set file (<c>{"keys":[...]}</c>) holding the issuer's public signing keys, for issuers whose metadata
    /// the silo cannot reach. Re-read when the file changes. Exactly one of this and <see cref="MetadataAddress"/>. Default none.
    /// </summary>
    public string? SigningKeysPath { get; set; }

    /// <summary>The claim whose value is the principal's name. Default <c>sub</c>.</summary>
    public string PrincipalClaim { get; set; } = "sub";

    /// <summary>Tolerance for clock differences with the issuer when checking <c>exp</c> and <c>nbf</c>. 0 to 5 minutes. Default 1 minute.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Refuse metadata and key set addresses that are not https. Turn off only for tests or a trusted local issuer. Default true.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>How often the metadata and signing keys are fetched again on their own. At least 5 minutes. Default 12 hours.</summary>
    public TimeSpan MetadataAutomaticRefreshInterval { get; set; } = TimeSpan.FromHours(12);

    /// <summary>
    /// Least time between two fetches asked for by tokens naming an unknown key id (the issuer rotated its keys), so
    /// invalid tokens cannot flood the issuer. At least 1 second. Default 5 minutes.
    /// </summary>
    public TimeSpan MetadataRefreshInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>True when the JWT door is on (<see cref="Issuer"/> is set).</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(Issuer);
}
