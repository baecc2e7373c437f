namespace Granary.Grains;

/// <summary>
/// Signs clients in (security on): a client holding a certificate proves it has the certificate's private key and
/// gets a session token to send as its credential. Any silo answers (a stateless worker, key 0).
/// </summary>
[Alias("granary.IClientSessionGrain")]
public interface IClientSessionGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Checks a client certificate (under mutual TLS): it must chain to the silos' trusted CA, allow client
    /// authentication and be valid now; <paramref name="signature"/> must be its key's signature over
    /// <see cref="Security.CertificateSignIn.SignedData"/> of the cluster's service id, <paramref name="challengeNonce"/> and
    /// <paramref name="unixTimeSeconds"/>, a time within 5 minutes of the silo's. The principal is the certificate
    /// subject's common name.
    /// </summary>
    /// <param name="certificateDer">The client certificate (DER).</param>
    /// <param name="chainDer">Intermediate CA certificates (DER), possibly none.</param>
    /// <param name="challengeNonce">16 to 64 random bytes the client chose.</param>
    /// <param name="unixTimeSeconds">The client's clock when it signed.</param>
    /// <param name="signature">The signature (RSA PKCS#1 v1.5 or ECDSA IEEE P1363, SHA-256).</param>
    /// <returns>The session token and when it expires (no token when security is off).</returns>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.Unauthenticated"/> with the reason, when anything does not check out.</exception>
    [Alias("SignInWithCertificate")]
    Task<CertificateSession> SignInWithCertificateAsync(byte[] certificateDer, byte[][] chainDer, byte[] challengeNonce, long unixTimeSeconds, byte[] signature);
}
