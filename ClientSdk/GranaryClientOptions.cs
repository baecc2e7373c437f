using Granary.Grains.Security;

namespace Granary.Client;

/// <summary>How to reach a Granary cluster.</summary>
public sealed class GranaryClientOptions
{
    /// <summary>Gateway endpoints as <c>host:port</c> (e.g. <c>127.0.0.1:30000</c>). At least one, unless <see cref="ConnectionString"/> is set.</summary>
    public IList<string> Gateways { get; set; } = [];

    /// <summary>Cluster id; must match the silos' <c>Granary:ClusterId</c>. Default <c>granary</c>.</summary>
    public string ClusterId { get; set; } = "granary";

    /// <summary>Service id; must match the silos' <c>Granary:ServiceId</c>. Default <c>granary</c>.</summary>
    public string ServiceId { get; set; } = "granary";

    /// <summary>How long <see cref="GranaryClient.ConnectAsync"/> tries before it fails. Default 30 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether <see cref="GranaryClient.ConnectAsync"/> keeps trying gateways that refuse the connection (nothing
    /// listens at the port: a silo still starting, or a wrong port) until <see cref="ConnectTimeout"/>. Default false:
    /// once each of the <see cref="Gateways"/> could have refused (as many refusals as gateways), the connect fails at
    /// once with the cause, as database and broker clients do; set it when the client may start before the silos.
    /// With <see cref="ConnectionString"/> refused gateways are always retried (the table may list departed silos).
    /// A gateway that accepts the connection and closes it during the handshake (one that requires TLS, or refuses the
    /// client's certificate) fails the connect after three attempts in a row, as <see cref="GranaryErrorCode.Unauthenticated"/>,
    /// whatever this says.
    /// </summary>
    public bool RetryRefusedConnections { get; set; }

    /// <summary>
    /// Where the client logs: connection attempts and failures, lost gateways, producer retries, consumer membership
    /// and failed acks (and Orleans' own client logs). Null (default): nowhere. In a host,
    /// <c>AddGranaryClient</c> uses the host's logger factory unless one is set here.
    /// </summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// How long a call to the cluster may take before it fails with a timeout (and the producer or consumer retries
    /// it). A call that went through a silo that was then killed gets no answer, so this bounds how long a failover
    /// holds it up. Consumers' long polls are kept below half of it. Default 10 s (Orleans' own default is 30 s).
    /// </summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Cluster mode: the PostgreSQL connection string of the silos' membership table. The client then reads the
    /// gateways of the active silos from it (and refreshes them every minute) instead of using <see cref="Gateways"/>.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Transport security: TLS to the gateways, and the client certificate for mutual TLS. Default off.</summary>
    public GranaryClientTlsOptions Tls { get; set; } = new();

    /// <summary>
    /// The API key (<c>gk_...</c>, from <c>granary keys create</c>) this client authenticates with when the cluster's
    /// security is on (<c>Granary:Security:Enabled</c>); or the cluster's bootstrap key (any text of at least 32
    /// characters), for setting up the first keys and rules. Sent with every call. Null: no API key. Set at most one of
    /// <see cref="ApiKey"/>, <see cref="AccessToken"/> and <see cref="AccessTokenProvider"/>.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// A JSON web token from the cluster's OpenID Connect issuer, sent with every call. It is not renewed: for
    /// tokens that expire while the client runs, use <see cref="AccessTokenProvider"/>. Null: none.
    /// </summary>
    public string? AccessToken { get; set; }

    /// <summary>
    /// Gets the JSON web token to send with a call; called before every call, so it should return a cached token
    /// until that nears expiry (as token libraries such as MSAL do) and complete synchronously then. Null: none.
    /// </summary>
    public Func<CancellationToken, ValueTask<string>>? AccessTokenProvider { get; set; }

    /// <summary>
    /// Whether to sign in with the client certificate of <see cref="GranaryClientTlsOptions.CertificatePath"/> (the
    /// cluster uses mutual TLS and security): the principal is the certificate subject's common name. The client signs
    /// in when it connects and again before the session expires. Null (default): sign in when a client certificate is
    /// configured and no API key or access token is given; on a cluster whose security is off, nothing happens.
    /// </summary>
    public bool? UseCertificateIdentity { get; set; }

    /// <summary>Whether the client signs in with its certificate (see <see cref="UseCertificateIdentity"/>).</summary>
    internal bool SignsInWithCertificate =>
        UseCertificateIdentity ?? (Tls is { Enabled: true } && !string.IsNullOrWhiteSpace(Tls.CertificatePath)
            && ApiKey is null && AccessToken is null && AccessTokenProvider is null);

    /// <summary>The shortest bootstrap key a silo accepts (<c>Granary:Security:BootstrapKey</c>).</summary>
    internal const int MinBootstrapKeyLength = 32;

    internal void Validate()
    {
        if (Gateways is not { Count: > 0 } && string.IsNullOrWhiteSpace(ConnectionString)) throw new ArgumentException("At least one gateway endpoint is needed.", nameof(Gateways));
        ArgumentException.ThrowIfNullOrWhiteSpace(ClusterId);
        ArgumentException.ThrowIfNullOrWhiteSpace(ServiceId);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(ResponseTimeout, TimeSpan.FromSeconds(2));
        ArgumentNullException.ThrowIfNull(Tls);
        Tls.Validate();
        int credentials = (ApiKey is null ? 0 : 1) + (AccessToken is null ? 0 : 1) + (AccessTokenProvider is null ? 0 : 1);
        if (credentials > 1) throw new ArgumentException("Set at most one of ApiKey, AccessToken and AccessTokenProvider.", nameof(ApiKey));
        if (ApiKey is not null && !LooksLikeApiKey(ApiKey))
            throw new ArgumentException($"ApiKey is not an API key: expected 'gk_' followed by the key's id and secret (as `granary keys create` prints it), or the cluster's bootstrap key of at least {MinBootstrapKeyLength} characters.", nameof(ApiKey));
        if (AccessToken is not null && string.IsNullOrWhiteSpace(AccessToken)) throw new ArgumentException("AccessToken is empty.", nameof(AccessToken));
        if (UseCertificateIdentity == true && (!Tls.Enabled || string.IsNullOrWhiteSpace(Tls.CertificatePath)))
            throw new ArgumentException("UseCertificateIdentity needs TLS with a client certificate (Tls.Enabled and Tls.CertificatePath).", nameof(UseCertificateIdentity));
        if (UseCertificateIdentity == true && credentials > 0)
            throw new ArgumentException("UseCertificateIdentity and an API key or access token exclude each other: the client has one identity.", nameof(UseCertificateIdentity));
    }

    // An API key as `granary keys create` prints it (gk_ + id + '_' + secret), or a bootstrap key: any text of 32
    // characters or more; neither holds white space.
    private static bool LooksLikeApiKey(string key) =>
        !key.Any(char.IsWhiteSpace)
        && (key.StartsWith(ApiKeys.Prefix, StringComparison.Ordinal) ? ApiKeys.TryGetId(key) is not null : key.Length >= MinBootstrapKeyLength);
}
