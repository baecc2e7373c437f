using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Granary.Grains.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Granary.Grains.Security;

/// <summary>
/// Signs in certificate holders (<see cref="IClientSessionGrain"/>): checks that security and mutual TLS are on, that the
/// certificate chains to <see cref="GranaryTlsOptions.TrustedCaPath"/> for client authentication and is valid now,
/// that the signature over <see cref="CertificateSignIn.SignedData"/> is the certificate key's, and that the signing
/// time is within <see cref="MaxClockSkew"/> of this silo's; then issues a session token for the subject's common name.
/// </summary>
public sealed class CertificateSessions
{
    /// <summary>How far the client's signing time may be from the silo's clock.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    private const int MinNonceBytes = 16;
    private const int MaxNonceBytes = 64;
    private const int MaxChainCertificates = 8;

    private readonly GranarySecurityOptions _security;
    private readonly GranaryTlsOptions _tls;
    private readonly string _serviceId;
    private readonly SessionTokens _tokens;
    private readonly TimeProvider _time;
    private readonly Lazy<TlsCertificateValidator?> _validator;

    /// <summary>Sign-ins under the silo's security and TLS settings.</summary>
    public CertificateSessions(IOptions<GranarySecurityOptions> security, IOptions<GranaryTlsOptions> tls, IOptions<ClusterOptions> cluster,
        SessionTokens tokens, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(security);
        ArgumentNullException.ThrowIfNull(tls);
        ArgumentNullException.ThrowIfNull(cluster);
        _security = security.Value;
        _tls = tls.Value;
        _serviceId = cluster.Value.ServiceId;
        _tokens = tokens;
        _time = time;
        _validator = new(() => string.IsNullOrWhiteSpace(_tls.TrustedCaPath)
            ? null
            : new TlsCertificateValidator(TlsCertificates.LoadTrustedRoots(_tls.TrustedCaPath), TlsCertificates.ClientAuthenticationOid));
    }

    /// <summary>Checks a sign-in and returns its session (see <see cref="IClientSessionGrain.SignInWithCertificateAsync"/>).</summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.Unauthenticated"/> with the reason.</exception>
    public CertificateSession SignIn(byte[] certificateDer, byte[][] chainDer, byte[] challengeNonce, long unixTimeSeconds, byte[] signature)
    {
        // Security off: calls need no credential; the client goes on without one.
        if (!_security.Enabled) return new CertificateSession(null, Principal.Anonymous.Name, DateTimeOffset.MaxValue);
        if (!_tls.Enabled || !_tls.MutualTls) throw Refused("the cluster does not use mutual TLS (Granary:Tls:MutualTls), so certificates identify no one");
        if (_validator.Value is not { } validator) throw Refused("the cluster has no trusted CA (Granary:Tls:TrustedCaPath)");
        if (certificateDer is not { Length: > 0 } || signature is not { Length: > 0 }) throw Refused("the certificate or the signature is missing");
        if (challengeNonce is null || challengeNonce.Length is < MinNonceBytes or > MaxNonceBytes) throw Refused($"the challenge must be {MinNonceBytes} to {MaxNonceBytes} bytes");
        chainDer ??= [];
        if (chainDer.Length > MaxChainCertificates) throw Refused($"a chain of more than {MaxChainCertificates} certificates");
        var now = _time.GetUtcNow();
        var signedAt = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(unixTimeSeconds, DateTimeOffset.MinValue.ToUnixTimeSeconds(), DateTimeOffset.MaxValue.ToUnixTimeSeconds()));
        if ((signedAt - now).Duration() > MaxClockSkew) throw Refused($"the signing time {signedAt:u} is more than {MaxClockSkew.TotalMinutes} minutes from the cluster's clock ({now:u})");

        using var certificate = Load(certificateDer, "certificate");
        var intermediates = new List<X509Certificate2>(chainDer.Length);
        try
        {
            foreach (var der in chainDer) intermediates.Add(Load(der, "chain certificate"));
            if (!validator.IsAcceptableWith(certificate, intermediates, out string? rejection))
                throw Refused(rejection ?? "the certificate is not acceptable");
        }
        finally
        {
            foreach (var intermediate in intermediates) intermediate.Dispose();
        }
        if (now < certificate.NotBefore || now > certificate.NotAfter) throw Refused($"the certificate '{certificate.Subject}' is not valid now");
        byte[] data = CertificateSignIn.SignedData(_serviceId, challengeNonce, unixTimeSeconds);
        if (!Verifies(certificate, data, signature)) throw Refused($"the signature is not by the key of certificate '{certificate.Subject}'");
        string principal = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if (!PrincipalNames.IsValid(principal))
            throw Refused($"the certificate's common name '{principal}' is not a valid principal name ({PrincipalNames.Rule})");
        var expires = now + _security.SessionLifetime;
        if (expires > certificate.NotAfter) expires = certificate.NotAfter;
        return new CertificateSession(_tokens.Issue(principal, expires), principal, expires);
    }

    private static bool Verifies(X509Certificate2 certificate, byte[] data, byte[] signature)
    {
        using (var ecdsa = certificate.GetECDsaPublicKey())
        {
            if (ecdsa is not null) return ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256);
        }
        using var rsa = certificate.GetRSAPublicKey();
        return rsa is not null && rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    }

    private static X509Certificate2 Load(byte[] der, string what)
    {
        try
        {
            return X509CertificateLoader.LoadCertificate(der);
        }
        catch (CryptographicException e)
        {
            throw Refused($"the {what} cannot be read: {e.Message}");
        }
    }

    private static GranaryException Refused(string reason) => new(GranaryErrorCode.Unauthenticated, $"Certificate sign-in refused: {reason}.");
}
