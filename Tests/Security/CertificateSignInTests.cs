using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Granary.Client.Internal;
using Granary.Grains.Security;
using Microsoft.Extensions.Time.Testing;
using static Granary.Tests.Security.SecureSiloFixture;

namespace Granary.Tests.Security;

/// <summary>
/// Certificate identities: a client proves it holds its certificate's key and gets a session token for the subject's
/// common name, which then passes the gate as that principal; anything that does not check out is Unauthenticated.
/// </summary>
public sealed class CertificateSignInTests(SecureSiloFixture silo) : IClassFixture<SecureSiloFixture>
{
    private const string ClientPrincipal = "granary-client"; // TestCertificates' client CN

    private IClientSessionGrain Sessions => silo.Cluster.Client.GetGrain<IClientSessionGrain>(0);

    private static X509Certificate2 ClientCertificate(TestCertificates certificates) =>
        X509Certificate2.CreateFromPemFile(certificates.ClientCertificatePath, certificates.ClientKeyPath);

    private (byte[] Nonce, long Time, byte[] Signature) Sign(X509Certificate2 certificate, long? time = null)
    {
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        long at = time ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var key = certificate.GetECDsaPrivateKey()!;
        return (nonce, at, key.SignData(CertificateSignIn.SignedData(silo.ServiceId, nonce, at), HashAlgorithmName.SHA256));
    }

    [Fact]
    public async Task ACertificateMappedPrincipal_SignsIn_AndIsCheckedByItsCommonName()
    {
        string topic = BrokerClusterFixture.UniqueTopic("cert");
        await silo.As(BootstrapKey, () => silo.Client.Admin.CreateTopicAsync(topic));
        await silo.Administration.AddRuleAsync(ClientPrincipal, ResourceType.Topic, topic, AclPatternType.Exact, AclOperation.Produce, AclEffect.Allow, Principal.Bootstrap);

        // Through the SDK's sign-in, as GranaryClient.ConnectAsync does it.
        using var identity = new CertificateIdentity(silo.Cluster.Client, ClientCertificate(silo.Certificates), silo.ServiceId, TimeProvider.System);
        await identity.SignInAsync();
        string token = (await identity.GetTokenAsync())!;
        Assert.StartsWith(SessionTokens.Prefix, token, StringComparison.Ordinal);
        Assert.Equal(ClientPrincipal, identity.Principal);

        await silo.As(token, async () =>
        {
            await using var producer = silo.Client.CreateProducer(topic, new ProducerOptions { MaxRetries = 0 });
            await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes("signed in")));
        });
        var refused = await Assert.ThrowsAsync<GranaryException>(() => silo.As(token, () => silo.Client.Admin.DeleteTopicAsync(topic)));
        Assert.Equal(GranaryErrorCode.NotAllowed, refused.Code);
        Assert.Contains(ClientPrincipal, refused.Message, StringComparison.Ordinal);

        // A token whose principal was changed fails its MAC.
        string forged = SessionTokens.Prefix + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds()}\n{Principal.BootstrapName}"))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_') + token[token.IndexOf('.', StringComparison.Ordinal)..];
        var unauthenticated = await Assert.ThrowsAsync<GranaryException>(() => silo.As(forged, () => silo.Client.Admin.ListTopicsAsync()));
        Assert.Equal(GranaryErrorCode.Unauthenticated, unauthenticated.Code);
        Assert.Contains("session token", unauthenticated.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASignatureByAnotherKey_AStaleTime_OrAnUntrustedCertificate_IsRefused()
    {
        using var certificate = ClientCertificate(silo.Certificates);
        var (nonce, time, signature) = Sign(certificate);
        signature[^1] ^= 1;
        await AssertRefusedAsync(() => Sessions.SignInWithCertificateAsync(certificate.RawData, [], nonce, time, signature), "signature");

        (nonce, time, signature) = Sign(certificate, DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds());
        await AssertRefusedAsync(() => Sessions.SignInWithCertificateAsync(certificate.RawData, [], nonce, time, signature), "minutes");

        using var directory = new TempDirectory();
        using var stranger = ClientCertificate(TestCertificates.Create(directory.Path, "stranger"));
        (nonce, time, signature) = Sign(stranger);
        await AssertRefusedAsync(() => Sessions.SignInWithCertificateAsync(stranger.RawData, [], nonce, time, signature), "chain");

        // The same certificate, signed properly, signs in.
        (nonce, time, signature) = Sign(certificate);
        var session = await Sessions.SignInWithCertificateAsync(certificate.RawData, [], nonce, time, signature);
        Assert.Equal(ClientPrincipal, session.Principal);
    }

    private static async Task AssertRefusedAsync(Func<Task> signIn, string reason)
    {
        var refused = await Assert.ThrowsAsync<GranaryException>(signIn);
        Assert.Equal(GranaryErrorCode.Unauthenticated, refused.Code);
        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASessionToken_ExpiresOnTime_AndOnlyTheClusterCanMakeOne()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
        var tokens = new SessionTokens(new InternalCallSecret("cluster-secret-0123456789abcdef0123456789"), time);
        string token = tokens.Issue("alice", time.GetUtcNow().AddHours(1));

        Assert.Equal(new Principal("alice", AuthenticationKind.Certificate), tokens.Validate(token));
        time.Advance(TimeSpan.FromMinutes(59));
        Assert.NotNull(tokens.Validate(token));
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(tokens.Validate(token)); // cached as valid, yet expired now

        var otherCluster = new SessionTokens(new InternalCallSecret("another-secret-0123456789abcdef0123456789"), time);
        Assert.Null(tokens.Validate(otherCluster.Issue("alice", time.GetUtcNow().AddHours(1))));
        Assert.Null(tokens.Validate("gs_garbage"));
        Assert.Null(tokens.Validate("gs_%%%.%%%"));
    }
}
