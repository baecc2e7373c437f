using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Granary.Grains.Security;

namespace Granary.Tests.Security;

/// <summary>A real silo with mutual TLS: only clients with a certificate its CA issued get in.</summary>
public sealed class TlsTests(MutualTlsSiloFixture fixture) : IClassFixture<MutualTlsSiloFixture>
{
    /// <summary>
    /// The connect timeout of a refused client: far longer than a refusal takes (three closed handshakes, or one
    /// failed on the client's side), so that a refusal noticed only at the timeout fails the test.
    /// </summary>
    internal static readonly TimeSpan RefusalDeadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AClientWithACertificateFromTheTrustedCa_Connects_AndProducesAndConsumes()
    {
        await using var client = await GranaryClient.ConnectAsync(fixture.ClientOptions(fixture.Trusted));
        await client.Admin.CreateTopicAsync("tls-orders");
        await using var producer = client.CreateProducer("tls-orders");
        await producer.SendAsync(new OutgoingMessage("over mTLS"u8.ToArray()));
        await using var consumer = client.CreateConsumer("tls-orders", "billing", new ConsumerOptions { AckTimeout = ClientTestExtensions.NoExpiry, PollWait = TimeSpan.FromMilliseconds(200) });
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync());
        Assert.Equal("over mTLS", Encoding.UTF8.GetString(Assert.Single(received).Payload.Span));
    }

    [Fact]
    public async Task AClientWithoutACertificate_IsRefused()
    {
        // Tests of a class run one at a time, so new lines of this silo's output come from this client.
        int before = fixture.Silo.CountLogged("Authentication failed");
        var failure = await ConnectExpectingRefusalAsync(fixture.ClientOptions(RefusalDeadline));
        Assert.Contains("closed the connection during the handshake", failure.Message, StringComparison.Ordinal);
        Assert.NotNull(failure.InnerException);
        // Orleans' TLS middleware logs each refused handshake (there is no certificate for Granary's own check to reject).
        await Eventually.UntilAsync(() => fixture.Silo.CountLogged("Authentication failed") > before);
    }

    [Fact]
    public async Task AClientWithACertificateFromAnotherCa_IsRefused_AndTheSiloLogsWhy()
    {
        int before = fixture.Silo.CountLogged("TLS: refused the client connection");
        var failure = await ConnectExpectingRefusalAsync(fixture.ClientOptions(fixture.Untrusted, RefusalDeadline));
        Assert.Contains("closed the connection during the handshake", failure.Message, StringComparison.Ordinal);
        await Eventually.UntilAsync(() => fixture.Silo.CountLogged("TLS: refused the client connection") > before);
        Assert.True(fixture.Silo.HasLogged("certificate 'CN=granary-client' (issuer 'CN=Granary Test CA untrusted') does not chain to the trusted CA (CN=Granary Test CA trusted)"),
            string.Join('\n', fixture.Silo.RecentOutput.TakeLast(40)));
    }

    [Fact]
    public async Task TheSiloPort_RefusesAClientCertificateOfTheTrustedCa()
    {
        // A client certificate of the cluster's own CA must not open the silo-to-silo port, where grain calls need no
        // further authorisation: silo certificates are valid for serverAuth and clientAuth, client ones clientAuth only.
        int before = fixture.Silo.CountLogged("TLS: refused the silo connection");
        using var certificate = X509Certificate2.CreateFromPemFile(fixture.Trusted.ClientCertificatePath, fixture.Trusted.ClientKeyPath);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, fixture.Silo.SiloPort);
        var silo = new TlsCertificateValidator(TlsCertificates.LoadTrustedRoots(fixture.Trusted.CaPath), TlsCertificates.ServerAuthenticationOid);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false,
            (_, remote, chain, _) => remote is X509Certificate2 presented && silo.IsAcceptable(presented, chain, out _));
        var handshake = async () =>
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ClientCertificates = [certificate],
            });
            // Under TLS 1.3 the client finishes its side before the server has judged its certificate; the refusal
            // arrives as an alert on the first read, or as the connection closing.
            int read = await tls.ReadAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(60));
            if (read == 0) throw new IOException("closed by the silo");
        };
        await Assert.ThrowsAnyAsync<Exception>(handshake);
        await Eventually.UntilAsync(() => fixture.Silo.CountLogged("TLS: refused the silo connection") > before);
        Assert.True(fixture.Silo.HasLogged("certificate 'CN=granary-client' (issuer 'CN=Granary Test CA trusted') does not chain to the trusted CA (CN=Granary Test CA trusted) for usage serverAuth"),
            string.Join('\n', fixture.Silo.RecentOutput.TakeLast(40)));
    }

    /// <summary>
    /// Connects with <paramref name="options"/>, which the silo must refuse (it closes the connection during the
    /// handshake): the connect fails as unauthenticated well before the connect timeout.
    /// </summary>
    internal static async Task<GranaryException> ConnectExpectingRefusalAsync(GranaryClientOptions options)
    {
        var clock = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<GranaryException>(async () =>
        {
            await using var client = await GranaryClient.ConnectAsync(options);
        });
        Assert.Equal(GranaryErrorCode.Unauthenticated, failure.Code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the refusal took {clock.Elapsed}: {failure.Message}");
        return failure;
    }
}
