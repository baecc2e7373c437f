using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Granary.Client.Internal;
using Granary.Grains.Hosting;
using Granary.Grains.Security;
using Microsoft.Extensions.Time.Testing;
using Orleans.Configuration;

namespace Granary.Tests.Security;

/// <summary>
/// Certificate sign-in with an intermediate CA: the silo trusts only the root; the client's file holds its certificate
/// and the intermediate, which the SDK sends along so the chain completes.
/// </summary>
public sealed class CertificateChainTests
{
    private const string ServiceId = "chain-test";

    [Fact]
    public void ALeafOfAnIntermediateCa_SignsInWithTheIntermediate_AndNotWithout()
    {
        using var directory = new TempDirectory();
        var now = DateTimeOffset.UtcNow;
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var root = Ca("CN=chain root", rootKey, null, pathLength: 1, now);
        using var intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var intermediate = Ca("CN=chain intermediate", intermediateKey, root, pathLength: 0, now);
        using var intermediateSigner = intermediate.CopyWithPrivateKey(intermediateKey);
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=orders-app", leafKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(TlsCertificates.ClientAuthenticationOid)], critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(intermediate, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        using var issued = request.Create(intermediateSigner, now.AddMinutes(-5), now.AddHours(2), RandomNumberGenerator.GetBytes(16));
        using var leaf = issued.CopyWithPrivateKey(leafKey);

        string rootPath = Path.Combine(directory.Path, "root.pem");
        File.WriteAllText(rootPath, root.ExportCertificatePem());
        string bundle = Path.Combine(directory.Path, "client.pem");
        File.WriteAllText(bundle, leaf.ExportCertificatePem() + "\n" + intermediate.ExportCertificatePem());

        // The SDK finds the intermediate in the client's PEM file, and not the leaf itself.
        var intermediates = CertificateIdentity.IntermediatesIn(bundle, null, leaf);
        Assert.Equal([intermediate.RawData], intermediates);

        var time = new FakeTimeProvider(now);
        var sessions = new CertificateSessions(
            Microsoft.Extensions.Options.Options.Create(new GranarySecurityOptions { Enabled = true, SessionLifetime = TimeSpan.FromHours(1) }),
            Microsoft.Extensions.Options.Options.Create(new GranaryTlsOptions { Enabled = true, MutualTls = true, TrustedCaPath = rootPath }),
            Microsoft.Extensions.Options.Options.Create(new ClusterOptions { ServiceId = ServiceId }),
            new SessionTokens(new InternalCallSecret("chain-test-secret-0123456789abcdef0123456789"), time), time);
        byte[] nonce = RandomNumberGenerator.GetBytes(16);
        long at = now.ToUnixTimeSeconds();
        byte[] signature = leafKey.SignData(CertificateSignIn.SignedData(ServiceId, nonce, at), HashAlgorithmName.SHA256);

        var refused = Assert.Throws<GranaryException>(() => sessions.SignIn(leaf.RawData, [], nonce, at, signature));
        Assert.Equal(GranaryErrorCode.Unauthenticated, refused.Code);
        var session = sessions.SignIn(leaf.RawData, intermediates, nonce, at, signature);
        Assert.Equal("orders-app", session.Principal);
        Assert.Equal(now.AddHours(1), session.Expires);

        // A signature over another service id (another cluster's challenge) does not sign in here.
        byte[] elsewhere = leafKey.SignData(CertificateSignIn.SignedData("another-cluster", nonce, at), HashAlgorithmName.SHA256);
        Assert.Equal(GranaryErrorCode.Unauthenticated, Assert.Throws<GranaryException>(() => sessions.SignIn(leaf.RawData, intermediates, nonce, at, elsewhere)).Code);
    }

    /// <summary>A CA certificate: self-signed (with its key) when <paramref name="issuer"/> is null, else signed by it (which holds its key).</summary>
    private static X509Certificate2 Ca(string subject, ECDsa key, X509Certificate2? issuer, int pathLength, DateTimeOffset now)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, pathLength, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        if (issuer is null) return request.CreateSelfSigned(now.AddMinutes(-10), now.AddDays(1));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        return request.Create(issuer, now.AddMinutes(-10), now.AddDays(1), RandomNumberGenerator.GetBytes(16));
    }
}
