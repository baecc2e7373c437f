namespace Granary.Client;

/// <summary>
/// TLS from the client to the silos' gateways (<see cref="GranaryClientOptions.Tls"/>). The silos must run with
/// <c>Granary:Tls:Enabled=true</c>; a client without TLS cannot talk to them, nor a TLS client to silos without it.
/// </summary>
public sealed class GranaryClientTlsOptions
{
    /// <summary>Turns TLS on. Default false (plain TCP).</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// The client's own certificate, needed when the silos require mutual TLS (<c>Granary:Tls:MutualTls=true</c>): a
    /// PEM file (key in <see cref="KeyPath"/> or in the same file) or a PKCS#12 file (<c>.pfx</c>/<c>.p12</c>). It
    /// must chain to the CA the silos trust and, if it has an Extended Key Usage extension, list clientAuth.
    /// Null: connect without a client certificate.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of a PEM <see cref="CertificatePath"/>; omit when the key is in the certificate file.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The password of a PKCS#12 file or of an encrypted PEM key.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>
    /// A PEM file with the CA certificate(s) the silos' certificates must chain to (a private CA). When absent, the
    /// system's trust store is used and <see cref="TargetHost"/> is required, since that store trusts certificates
    /// any public CA issued for any name.
    /// </summary>
    public string? TrustedCaPath { get; set; }

    /// <summary>
    /// The name the silos' certificates must be issued for (a DNS name or IP address in their subject alternative
    /// names); also sent as the TLS server name (SNI). Null: with <see cref="TrustedCaPath"/>, any certificate that CA
    /// issued is accepted, whatever its name, which suits a private CA that issues only silo certificates.
    /// </summary>
    public string? TargetHost { get; set; }

    /// <summary>
    /// Development only: accept any silo certificate, including self-signed and expired ones. The connection is
    /// encrypted but the silo is not authenticated, so anyone in the middle can read it. Default false.
    /// </summary>
    public bool AllowUntrustedServerCertificate { get; set; }

    /// <summary>Throws when the settings contradict each other or name files that do not exist; nothing is checked when TLS is off.</summary>
    /// <exception cref="ArgumentException">The settings are not usable, with the reason.</exception>
    public void Validate()
    {
        if (!Enabled) return;
        if (string.IsNullOrWhiteSpace(CertificatePath))
        {
            if (!string.IsNullOrWhiteSpace(KeyPath))
                throw Invalid("Tls.KeyPath is set without Tls.CertificatePath; give the client certificate too.", nameof(KeyPath));
        }
        else
        {
            RequireFile(CertificatePath, nameof(CertificatePath));
            if (!string.IsNullOrWhiteSpace(KeyPath))
            {
                if (CertificatePath.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || CertificatePath.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
                    throw Invalid($"Tls.KeyPath is set but Tls.CertificatePath '{CertificatePath}' is a PKCS#12 file, which holds its own key; remove KeyPath.", nameof(KeyPath));
                RequireFile(KeyPath, nameof(KeyPath));
            }
        }
        if (AllowUntrustedServerCertificate)
        {
            if (!string.IsNullOrWhiteSpace(TrustedCaPath) || !string.IsNullOrWhiteSpace(TargetHost))
                throw Invalid("Tls.AllowUntrustedServerCertificate accepts any silo certificate, so Tls.TrustedCaPath and Tls.TargetHost would be ignored; set one or the other.", nameof(AllowUntrustedServerCertificate));
            return;
        }
        if (!string.IsNullOrWhiteSpace(TrustedCaPath)) RequireFile(TrustedCaPath, nameof(TrustedCaPath));
        else if (string.IsNullOrWhiteSpace(TargetHost))
            throw Invalid("Tls needs Tls.TrustedCaPath (the CA that issued the silos' certificates) or, to use the system's trusted CAs, Tls.TargetHost (the name in the silos' certificates).", nameof(TrustedCaPath));
    }

    private static void RequireFile(string path, string property)
    {
        if (!File.Exists(path)) throw Invalid($"Tls.{property} '{path}' does not exist (resolved to '{Path.GetFullPath(path)}').", property);
    }

    private static ArgumentException Invalid(string message, string property) => new(message, property);
}
