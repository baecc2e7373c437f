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

    internal void Validate()
    {
        if (Gateways is not { Count: > 0 } && string.IsNullOrWhiteSpace(ConnectionString)) throw new ArgumentException("At least one gateway endpoint is needed.", nameof(Gateways));
        ArgumentException.ThrowIfNullOrWhiteSpace(ClusterId);
        ArgumentException.ThrowIfNullOrWhiteSpace(ServiceId);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(ResponseTimeout, TimeSpan.FromSeconds(2));
        ArgumentNullException.ThrowIfNull(Tls);
        Tls.Validate();
    }
}
