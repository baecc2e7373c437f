using System.Security.Cryptography.X509Certificates;
using Granary.Grains.Security;

namespace Granary.Grains.Hosting;

/// <summary>
/// A silo's transport security, bound from <c>Granary:Tls:*</c>: TLS on silo-to-silo and client-to-gateway
/// connections, with the silo's certificate from files or the X509 store, and optionally mutual TLS for clients.
/// </summary>
/// <remarks>
/// Silos always authenticate each other (each presents its certificate and checks the other's against the same
/// trust), because a silo port that accepted any TLS peer would let anyone join the cluster's internal traffic.
/// <see cref="MutualTls"/> decides whether clients must present a certificate too.
/// </remarks>
public sealed class GranaryTlsOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Granary:Tls";

    /// <summary>Turns TLS on. Default false (plain TCP).</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// The silo's certificate: a PEM file (key in <see cref="KeyPath"/> or in the same file) or a PKCS#12 file
    /// (<c>.pfx</c>/<c>.p12</c>). If it has an Extended Key Usage extension, it must list both serverAuth and
    /// clientAuth, because a silo is the server of some connections and the client of others.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of a PEM <see cref="CertificatePath"/>; omit when the key is in the certificate file.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The password of a PKCS#12 file or of an encrypted PEM key.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>
    /// Load the certificate from the X509 store instead of files: the subject (or part of it) to find in
    /// <see cref="StoreName"/>/<see cref="StoreLocation"/>. Of several matches, the valid one expiring last is used.
    /// </summary>
    public string? StoreSubject { get; set; }

    /// <summary>The store searched for <see cref="StoreSubject"/>. Default <see cref="StoreName.My"/>.</summary>
    public StoreName StoreName { get; set; } = StoreName.My;

    /// <summary>The store location searched for <see cref="StoreSubject"/>. Default <see cref="StoreLocation.CurrentUser"/>.</summary>
    public StoreLocation StoreLocation { get; set; } = StoreLocation.CurrentUser;

    /// <summary>
    /// Mutual TLS: clients must present a certificate that chains to the trusted CA, and connections without one are
    /// refused. Off: clients connect with no certificate (the connection is still encrypted and the silo
    /// authenticated). Default false.
    /// </summary>
    public bool MutualTls { get; set; }

    /// <summary>
    /// A PEM file with the CA certificate(s) that silo and client certificates must chain to (a private CA). Required
    /// when TLS is on: silos admit each other by it, and the system's trust store would admit any certificate any
    /// public CA issued into the cluster's internal traffic.
    /// </summary>
    public string? TrustedCaPath { get; set; }

    /// <summary>The handshake must finish within this time, or the connection is dropped. Default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Throws when the settings contradict each other or name files that do not exist; nothing is checked when TLS is off.</summary>
    /// <exception cref="InvalidOperationException">The settings are not usable, with the reason.</exception>
    public void Validate()
    {
        if (!Enabled) return;
        bool fromFile = !string.IsNullOrWhiteSpace(CertificatePath);
        bool fromStore = !string.IsNullOrWhiteSpace(StoreSubject);
        if (!fromFile && !fromStore)
            throw Invalid("Granary:Tls:Enabled is true but no certificate is given: set Granary:Tls:CertificatePath (PEM or PFX file) or Granary:Tls:StoreSubject (X509 store).");
        if (fromFile && fromStore)
            throw Invalid("Granary:Tls:CertificatePath and Granary:Tls:StoreSubject are both set; give the certificate one way only.");
        if (fromFile)
        {
            RequireFile(CertificatePath!, "CertificatePath");
            if (!string.IsNullOrWhiteSpace(KeyPath))
            {
                if (IsPkcs12(CertificatePath!))
                    throw Invalid($"Granary:Tls:KeyPath is set but Granary:Tls:CertificatePath '{CertificatePath}' is a PKCS#12 file, which holds its own key; remove KeyPath.");
                RequireFile(KeyPath, "KeyPath");
            }
        }
        else
        {
            if (!string.IsNullOrWhiteSpace(KeyPath))
                throw Invalid("Granary:Tls:KeyPath is set but the certificate comes from the X509 store (Granary:Tls:StoreSubject), which holds its own key; remove KeyPath.");
            if (!Enum.IsDefined(StoreName)) throw Invalid($"Granary:Tls:StoreName '{StoreName}' is not a store name.");
            if (!Enum.IsDefined(StoreLocation)) throw Invalid($"Granary:Tls:StoreLocation '{StoreLocation}' is not CurrentUser or LocalMachine.");
        }
        if (string.IsNullOrWhiteSpace(TrustedCaPath))
            throw Invalid("Granary:Tls:TrustedCaPath is required when TLS is on: it names the CA (PEM) whose certificates silos accept from each other (and from clients); the system's trust store would let any publicly issued certificate join the cluster.");
        RequireFile(TrustedCaPath, "TrustedCaPath");
        if (HandshakeTimeout <= TimeSpan.Zero) throw Invalid("Granary:Tls:HandshakeTimeout must be positive.");
    }

    /// <summary>
    /// Loads the silo's certificate (after <see cref="Validate"/>) and checks it has a private key and may serve both
    /// ends of a TLS connection.
    /// </summary>
    /// <exception cref="InvalidOperationException">The certificate cannot be loaded or used.</exception>
    public X509Certificate2 LoadCertificate()
    {
        Validate();
        if (!Enabled) throw Invalid("Granary:Tls:Enabled is false; there is no certificate to load.");
        var certificate = string.IsNullOrWhiteSpace(StoreSubject)
            ? TlsCertificates.LoadFromFile(CertificatePath!, KeyPath, CertificatePassword)
            : TlsCertificates.LoadFromStore(StoreSubject, StoreName, StoreLocation);
        try
        {
            TlsCertificates.EnsureUsages(certificate, "silo", TlsCertificates.ServerAuthenticationOid, TlsCertificates.ClientAuthenticationOid);
        }
        catch
        {
            certificate.Dispose();
            throw;
        }
        return certificate;
    }

    /// <summary>The CA certificates of <see cref="TrustedCaPath"/> (after <see cref="Validate"/>).</summary>
    public X509Certificate2Collection LoadTrustedRoots() => TlsCertificates.LoadTrustedRoots(TrustedCaPath!);

    private static bool IsPkcs12(string path) =>
        path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase);

    private static void RequireFile(string path, string key)
    {
        if (!File.Exists(path)) throw Invalid($"Granary:Tls:{key} '{path}' does not exist (resolved to '{Path.GetFullPath(path)}').");
    }

    private static InvalidOperationException Invalid(string message) => new(message);
}
