namespace Granary.Grains.Security;

/// <summary>Who a call comes from, once its credential has been checked.</summary>
/// <param name="Name">The principal's name, what rules name.</param>
/// <param name="Kind">How the principal proved who it is.</param>
public sealed record Principal(string Name, AuthenticationKind Kind)
{
    /// <summary>The principal of <see cref="GranarySecurityOptions.BootstrapKey"/>, always a superuser.</summary>
    public const string BootstrapName = "bootstrap";

    /// <summary>Calls without a credential while security is off.</summary>
    public static Principal Anonymous { get; } = new("anonymous", AuthenticationKind.Anonymous);

    /// <summary>The bootstrap superuser.</summary>
    public static Principal Bootstrap { get; } = new(BootstrapName, AuthenticationKind.Bootstrap);
}

/// <summary>How a principal authenticated.</summary>
public enum AuthenticationKind
{
    /// <summary>No credential; only possible while security is off.</summary>
    Anonymous,

    /// <summary>An API key created with <c>granary keys create</c>.</summary>
    ApiKey,

    /// <summary>A client certificate under mutual TLS; the principal is the certificate subject's common name.</summary>
    Certificate,

    /// <summary>A JSON web token from the configured OpenID Connect issuer.</summary>
    Jwt,

    /// <summary><see cref="GranarySecurityOptions.BootstrapKey"/>.</summary>
    Bootstrap,
}
