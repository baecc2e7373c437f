using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Granary.Tests.Security;

/// <summary>
/// A throwaway PKI written as PEM files: a CA, a silo certificate it signed (SAN localhost and 127.0.0.1, serverAuth
/// and clientAuth) and a client certificate it signed (clientAuth), the same set tools/make-test-certs.sh makes.
/// </summary>
public sealed class TestCertificates
{
    private TestCertificates(string directory, string name)
    {
        CaPath = Path.Combine(directory, $"{name}-ca.pem");
        SiloCertificatePath = Path.Combine(directory, $"{name}-silo.pem");
        SiloKeyPath = Path.Combine(directory, $"{name}-silo.key");
        ClientCertificatePath = Path.Combine(directory, $"{name}-client.pem");
        ClientKeyPath = Path.Combine(directory, $"{name}-client.key");
    }

    public string CaPath { get; }
    public string SiloCertificatePath { get; }
    public string SiloKeyPath { get; }
    public string ClientCertificatePath { get; }
    public string ClientKeyPath { get; }

    /// <summary>Creates the CA and both certificates under <paramref name="directory"/>; <paramref name="name"/> prefixes the files (and names the CA).</summary>
    public static TestCertificates Create(string directory, string name)
    {
        var files = new TestCertificates(directory, name);
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN=Granary Test CA {name}", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, critical: false));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        File.WriteAllText(files.CaPath, ca.ExportCertificatePem());

        Issue(ca, "CN=granary-silo", [TlsOid.Server, TlsOid.Client], withHostNames: true, files.SiloCertificatePath, files.SiloKeyPath, now);
        Issue(ca, "CN=granary-client", [TlsOid.Client], withHostNames: false, files.ClientCertificatePath, files.ClientKeyPath, now);
        return files;
    }

    private static void Issue(X509Certificate2 ca, string subject, string[] usages, bool withHostNames, string certificatePath, string keyPath, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        var eku = new OidCollection();
        foreach (var usage in usages) eku.Add(new Oid(usage));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(eku, critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        if (withHostNames)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
        }
        using var certificate = request.Create(ca, now.AddMinutes(-5), now.AddHours(12), RandomNumberGenerator.GetBytes(16));
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
    }

    private static class TlsOid
    {
        public const string Server = "1.3.6.1.5.5.7.3.1";
        public const string Client = "1.3.6.1.5.5.7.3.2";
    }
}
