namespace Granary.Grains;

/// <summary>A certificate holder's session: the token to send as credential, and when it stops working.</summary>
/// <param name="Token">The session token (<c>gs_...</c>); null when the cluster's security is off, so calls need no credential.</param>
/// <param name="Principal">The principal it authenticates as (the certificate's common name).</param>
/// <param name="Expires">When the token stops working; sign in again before.</param>
[GenerateSerializer, Immutable, Alias("granary.CertificateSession")]
public sealed record CertificateSession([property: Id(0)] string? Token, [property: Id(1)] string Principal, [property: Id(2)] DateTimeOffset Expires);
