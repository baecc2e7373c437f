using Granary.Grains.Security;
using Orleans.Connections.Security;

namespace Granary.Client.Internal;

/// <summary>Applies <see cref="GranaryClientTlsOptions"/> to the Orleans client, and remembers why the handshake last failed.</summary>
internal sealed class ClientTls
{
    private volatile string? _lastRejection;

    /// <summary>Why the client last refused a silo's certificate, or null if it never did.</summary>
    public string? LastRejection => _lastRejection;

    public void Apply(IClientBuilder client, GranaryClientTlsOptions options)
    {
        if (!options.Enabled) return;
        var certificate = string.IsNullOrWhiteSpace(options.CertificatePath)
            ? null
            : TlsCertificates.LoadFromFile(options.CertificatePath, options.KeyPath, options.CertificatePassword);
        if (certificate is not null) TlsCertificates.EnsureUsages(certificate, "client", TlsCertificates.ClientAuthenticationOid);
        var validator = options.AllowUntrustedServerCertificate
            ? null
            : new TlsCertificateValidator(string.IsNullOrWhiteSpace(options.TrustedCaPath) ? null : TlsCertificates.LoadTrustedRoots(options.TrustedCaPath),
                TlsCertificates.ServerAuthenticationOid, options.TargetHost);
        string? targetHost = string.IsNullOrWhiteSpace(options.TargetHost) ? null : options.TargetHost;
        client.UseTls(tls =>
        {
            tls.LocalCertificate = certificate;
            tls.ClientCertificateMode = certificate is null ? RemoteCertificateMode.NoCertificate : RemoteCertificateMode.RequireCertificate;
            tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            if (validator is null) tls.AllowAnyRemoteCertificate();
            else tls.RemoteCertificateValidation = (remote, chain, _) =>
            {
                if (validator.IsAcceptable(remote, chain, out string? rejection)) return true;
                _lastRejection = rejection;
                return false;
            };
            if (targetHost is not null) tls.OnAuthenticateAsClient = (_, authentication) => authentication.TargetHost = targetHost;
        });
    }
}
