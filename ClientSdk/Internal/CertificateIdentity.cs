using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Granary.Grains;
using Granary.Grains.Security;

namespace Granary.Client.Internal;

/// <summary>
/// A client's certificate sign-in: proves to a silo that it holds the client certificate's private key (a signature
/// over a fresh nonce, the cluster's service id and the time) and keeps the session token it gets, signing in again
/// once 80% of the session has passed. A failed renewal keeps the old token while it lasts.
/// </summary>
internal sealed class CertificateIdentity(IGrainFactory grains, X509Certificate2 certificate, string serviceId, TimeProvider time, byte[][]? intermediates = null) : IDisposable
{
    private readonly byte[][] _intermediates = intermediates ?? [];

    private readonly SemaphoreSlim _signingIn = new(1, 1);
    private volatile Session? _session;

    /// <summary>The principal the cluster maps the certificate to (after the first sign-in); null when security is off.</summary>
    public string? Principal => _session is { Value.Token: not null } session ? session.Value.Principal : null;

    /// <summary>The current session token, signing in first when there is none or it is due for renewal; null when the cluster's security is off.</summary>
    public ValueTask<string?> GetTokenAsync()
    {
        var session = _session;
        if (session is not null && time.GetUtcNow() < session.RenewAt) return ValueTask.FromResult(session.Value.Token);
        return RenewAsync(session);
    }

    /// <summary>Signs in now.</summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.Unauthenticated"/> when the cluster refuses the certificate.</exception>
    public async Task SignInAsync()
    {
        await _signingIn.WaitAsync().ConfigureAwait(false);
        try
        {
            _session = await SignInOnceAsync().ConfigureAwait(false);
        }
        finally
        {
            _signingIn.Release();
        }
    }

    private async ValueTask<string?> RenewAsync(Session? seen)
    {
        await _signingIn.WaitAsync().ConfigureAwait(false);
        try
        {
            var session = _session;
            if (!ReferenceEquals(session, seen) && session is not null) return session.Value.Token;
            try
            {
                session = await SignInOnceAsync().ConfigureAwait(false);
                _session = session;
            }
            catch (GranaryException) when (seen is not null && time.GetUtcNow() < seen.Value.Expires)
            {
                // Renewal failed (a silo restarting, say): the old session still works; try again on a later call.
                return seen.Value.Token;
            }
            return session.Value.Token;
        }
        finally
        {
            _signingIn.Release();
        }
    }

    private async Task<Session> SignInOnceAsync()
    {
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        long now = time.GetUtcNow().ToUnixTimeSeconds();
        byte[] data = CertificateSignIn.SignedData(serviceId, nonce, now);
        byte[] signature = Sign(data);
        var issued = time.GetUtcNow();
        var session = await GranaryClient.CallAsync(() => grains.GetGrain<IClientSessionGrain>(0)
            .SignInWithCertificateAsync(certificate.RawData, _intermediates, nonce, now, signature)).ConfigureAwait(false);
        var lifetime = session.Expires - issued;
        var renewAt = session.Token is null || lifetime <= TimeSpan.Zero ? DateTimeOffset.MaxValue : issued + lifetime * 0.8;
        return new Session(session, renewAt);
    }

    private byte[] Sign(byte[] data)
    {
        using (var ecdsa = certificate.GetECDsaPrivateKey())
        {
            if (ecdsa is not null) return ecdsa.SignData(data, HashAlgorithmName.SHA256);
        }
        using var rsa = certificate.GetRSAPrivateKey()
            ?? throw new InvalidOperationException($"The client certificate '{certificate.Subject}' has neither an RSA nor an ECDSA private key to sign in with.");
        return rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    }

    /// <summary>
    /// The CA certificates other than <paramref name="leaf"/> in the certificate file (a PEM bundle or a PKCS#12 file),
    /// which the silo may need to complete the chain to its trusted CA.
    /// </summary>
    public static byte[][] IntermediatesIn(string path, string? password, X509Certificate2 leaf)
    {
        var all = path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase)
            ? X509CertificateLoader.LoadPkcs12CollectionFromFile(path, password)
            : PemCertificates(path);
        try
        {
            return [.. all.Where(c => !c.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span)).Select(c => c.RawData)];
        }
        finally
        {
            foreach (var certificate in all) certificate.Dispose();
        }
    }

    private static X509Certificate2Collection PemCertificates(string path)
    {
        var all = new X509Certificate2Collection();
        all.ImportFromPemFile(path);
        return all;
    }

    public void Dispose()
    {
        _signingIn.Dispose();
        certificate.Dispose();
    }

    private sealed record Session(CertificateSession Value, DateTimeOffset RenewAt)
    {
        public DateTimeOffset Expires => Value.Expires;
    }
}
