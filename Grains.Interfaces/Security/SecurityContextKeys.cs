namespace Granary.Grains.Security;

/// <summary>
/// Request-context keys that carry who a grain call is from. Silos read and remove them before the grain runs, so
/// they never travel further than the first hop.
/// </summary>
public static class SecurityContextKeys
{
    /// <summary>A client's credential (API key, session token or JSON web token), set by the SDK on every call.</summary>
    public const string Credential = "granary.credential";

    /// <summary>
    /// Set by silo-side doors (the admin API) that call grains for an authenticated principal; honoured only on calls
    /// that also carry the silos' internal stamp, which no client can make.
    /// </summary>
    public const string OnBehalfOf = "granary.on-behalf-of";
}
