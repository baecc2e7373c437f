using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Granary.Grains.Security;

/// <summary>
/// Loads the certificates Granary's TLS settings name (PEM or PKCS#12 files, or the X509 store), for silos and clients
/// alike, and checks up front what the TLS handshake would otherwise reject with a vaguer error.
/// </summary>
public static class TlsCertificates
{
    /// <summary>The Extended Key Usage OID of TLS server authentication.</summary>
    public const string ServerAuthenticationOid = "1.3.6.1.5.5.7.3.1";

    /// <summary>The Extended Key Usage OID of TLS client authentication.</summary>
    public const string ClientAuthenticationOid = "1.3.6.1.5.5.7.3.2";

    /// <summary>
    /// Loads a certificate with its private key from <paramref name="certificatePath"/>: a PKCS#12 file
    /// (<c>.pfx</c>/<c>.p12</c>, protected by <paramref name="password"/>), or a PEM certificate whose key is in
    /// <paramref name="keyPath"/> (or in the same file when it is null; encrypted when a password is given).
    /// </summary>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidOperationException">The file holds no private key, or could not be read.</exception>
    public static X509Certificate2 LoadFromFile(string certificatePath, string? keyPath = null, string? password = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(certificatePath);
        RequireFile(certificatePath, "certificate");
        if (!string.IsNullOrWhiteSpace(keyPath)) RequireFile(keyPath, "private key");
        X509Certificate2 certificate;
        try
        {
            certificate = IsPkcs12(certificatePath)
                ? X509CertificateLoader.LoadPkcs12FromFile(certificatePath, password, X509KeyStorageFlags.DefaultKeySet)
                : string.IsNullOrEmpty(password)
                    ? X509Certificate2.CreateFromPemFile(certificatePath, NullIfBlank(keyPath))
                    : X509Certificate2.CreateFromEncryptedPemFile(certificatePath, password, NullIfBlank(keyPath));
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            // ArgumentException: the key file holds a key, but not this certificate's.
            throw new InvalidOperationException($"Could not load the certificate '{certificatePath}'{(keyPath is null ? "" : $" with key '{keyPath}'")}: {e.Message}", e);
        }
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new InvalidOperationException($"The certificate '{certificatePath}' has no private key; TLS needs one (give the key file, or a PKCS#12 file that holds it).");
        }
        return UsableBySslStream(certificate);
    }

    /// <summary>
    /// Finds the certificate whose subject contains <paramref name="subject"/> in an X509 store: of those that have a
    /// private key and are valid now, the one that expires last (so a renewed certificate wins over the old one).
    /// </summary>
    /// <exception cref="InvalidOperationException">No such certificate.</exception>
    public static X509Certificate2 LoadFromStore(string subject, StoreName storeName, StoreLocation storeLocation)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subject);
        using var store = new X509Store(storeName, storeLocation);
        try
        {
            store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException($"The {storeLocation}/{storeName} certificate store cannot be opened (looking for '{subject}'): {e.Message}", e);
        }
        var found = store.Certificates.Find(X509FindType.FindBySubjectName, subject, validOnly: false);
        var now = DateTime.Now;
        var best = found.Where(c => c.HasPrivateKey && c.NotBefore <= now && now <= c.NotAfter).MaxBy(c => c.NotAfter);
        foreach (var other in found)
            if (!ReferenceEquals(other, best)) other.Dispose();
        return best ?? throw new InvalidOperationException(
            $"No certificate with subject '{subject}', a private key and a current validity period in the {storeLocation}/{storeName} store.");
    }

    /// <summary>Loads the CA certificates of a PEM file (one or more <c>BEGIN CERTIFICATE</c> blocks).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidOperationException">The file holds no certificate.</exception>
    public static X509Certificate2Collection LoadTrustedRoots(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        RequireFile(path, "CA certificate");
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(path);
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException($"Could not read the CA certificate file '{path}': {e.Message}", e);
        }
        return roots.Count > 0 ? roots : throw new InvalidOperationException($"The CA certificate file '{path}' holds no PEM certificate.");
    }

    /// <summary>
    /// Throws unless <paramref name="certificate"/> may be used for each of <paramref name="usageOids"/>: a
    /// certificate without an Extended Key Usage extension may be used for anything; one with it only for what it
    /// lists. A silo's certificate needs both server and client authentication, because silos connect to each other.
    /// </summary>
    /// <exception cref="InvalidOperationException">A usage is missing.</exception>
    public static void EnsureUsages(X509Certificate2 certificate, string description, params string[] usageOids)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var listed = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        if (listed is null) return;
        var have = listed.EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value).ToHashSet(StringComparer.Ordinal);
        var missing = usageOids.Where(u => !have.Contains(u)).Select(UsageName).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException(
                $"The {description} certificate '{certificate.Subject}' lacks the Extended Key Usage {string.Join(" and ", missing)}.");
    }

    /// <summary>The name of a usage OID, with the OID: <c>serverAuth (1.3.6.1.5.5.7.3.1)</c>.</summary>
    internal static string UsageName(string oid) => oid switch
    {
        ServerAuthenticationOid => "serverAuth (1.3.6.1.5.5.7.3.1)",
        ClientAuthenticationOid => "clientAuth (1.3.6.1.5.5.7.3.2)",
        _ => oid,
    };

    private static bool IsPkcs12(string path) =>
        path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase);

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static void RequireFile(string path, string what)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"The {what} file '{path}' does not exist.", path);
    }

    // Windows' TLS stack (SChannel) cannot use the ephemeral key a PEM file gives; a round trip through PKCS#12
    // stores it the way SChannel wants. Linux and macOS use the certificate as loaded.
    private static X509Certificate2 UsableBySslStream(X509Certificate2 certificate)
    {
        if (!OperatingSystem.IsWindows()) return certificate;
        using (certificate)
            return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
    }
}
