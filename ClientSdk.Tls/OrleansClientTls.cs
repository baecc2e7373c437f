using Granary.Grains.Security;
using Orleans.Configuration;
using Orleans.Connections.Security;

namespace Granary.Client.Tls;

/// <summary>
/// Puts TLS on the client's connections to the gateways, with Orleans' TLS middleware. The client calls it when
/// <see cref="GranaryClientTlsOptions.Enabled"/> is set; referencing this package is all an application does.
/// </summary>
public static class OrleansClientTls
{
    /// <summary>
    /// Configures <paramref name="client"/> for TLS as <paramref name="options"/> say; <paramref name="rejected"/> gets
    /// the reason each time the client refuses a silo's certificate, and <paramref name="handshakeFailed"/> the error
    /// of each failed handshake (which Orleans' TLS middleware otherwise only logs).
    /// </summary>
    /// <exception cref="InvalidOperationException">The client certificate or the CA file cannot be used.</exception>
    public static void Apply(IClientBuilder client, GranaryClientTlsOptions options, Action<string> rejected, Action<Exception> handshakeFailed)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(rejected);
        ArgumentNullException.ThrowIfNull(handshakeFailed);
        var certificate = string.IsNullOrWhiteSpace(options.CertificatePath)
            ? null
            : TlsCertificates.LoadFromFile(options.CertificatePath, options.KeyPath, options.CertificatePassword);
        if (certificate is not null) TlsCertificates.EnsureUsages(certificate, "client", TlsCertificates.ClientAuthenticationOid);
        var validator = options.AllowUntrustedServerCertificate
            ? null
            : new TlsCertificateValidator(string.IsNullOrWhiteSpace(options.TrustedCaPath) ? null : TlsCertificates.LoadTrustedRoots(options.TrustedCaPath),
                TlsCertificates.ServerAuthenticationOid, options.TargetHost);
        string? targetHost = string.IsNullOrWhiteSpace(options.TargetHost) ? null : options.TargetHost;
        var tls = new TlsOptions
        {
            LocalCertificate = certificate,
            ClientCertificateMode = certificate is null ? RemoteCertificateMode.NoCertificate : RemoteCertificateMode.RequireCertificate,
            RemoteCertificateMode = RemoteCertificateMode.RequireCertificate,
        };
        if (validator is null) tls.AllowAnyRemoteCertificate();
        else tls.RemoteCertificateValidation = (remote, chain, _) =>
        {
            if (validator.IsAcceptable(remote, chain, out string? rejection)) return true;
            rejected(rejection ?? "not acceptable");
            return false;
        };
        if (targetHost is not null) tls.OnAuthenticateAsClient = (_, authentication) => authentication.TargetHost = targetHost;
        // What Orleans' UseTls does, but through a connection builder that reports the handshake's failures.
        client.Configure<ClientConnectionOptions>(connections =>
            connections.ConfigureConnection(connection => new HandshakeFailureObserver(connection, handshakeFailed).UseClientTls(tls)));
    }
}
