using System.Diagnostics;
using System.Security.Authentication;
using Granary.Tests.Admin;
using Granary.Tests.Security;

namespace Granary.Tests.Client;

/// <summary>
/// A TLS handshake that fails on the client's side fails the connect at once, as a TLS failure with the handshake's
/// error inside, not at the connect timeout as "no gateway accepted the connection" (issue 20, item 4: refused vs
/// timed out vs TLS). One silo with TLS, one without.
/// </summary>
[Trait("Category", "Integration")]
public sealed class TlsConnectFailureTests(ServerTlsSiloFixture tlsSilo, AdminApiSilo plainSilo)
    : IClassFixture<ServerTlsSiloFixture>, IClassFixture<AdminApiSilo>
{
    /// <summary>Far longer than a failed handshake takes, so that only a connect that waited for it fails the test.</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(90);

    /// <summary>A prompt failure: several handshakes' worth on a loaded machine, well under <see cref="ConnectTimeout"/>.</summary>
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task AClientThatDoesNotTrustTheSilosCertificate_FailsAtOnce_WithTheAuthenticationError()
    {
        var options = tlsSilo.ClientOptions(ConnectTimeout);
        options.Tls.TrustedCaPath = tlsSilo.Untrusted.CaPath;

        var failure = await ConnectExpectingTlsFailureAsync(options);

        Assert.IsType<AuthenticationException>(failure.InnerException);
        Assert.Contains("this client refused the silo's certificate: certificate 'CN=granary-silo' (issuer 'CN=Granary Test CA trusted') does not chain to the trusted CA (CN=Granary Test CA untrusted)",
            failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATlsClientAgainstASiloWithoutTls_FailsAtOnce_WithTheHandshakeError()
    {
        var options = plainSilo.Silo.ClientOptions();
        options.ConnectTimeout = ConnectTimeout;
        options.Tls = new GranaryClientTlsOptions { Enabled = true, TrustedCaPath = tlsSilo.Trusted.CaPath };

        var failure = await ConnectExpectingTlsFailureAsync(options);

        // SslStream's own error here is an IOException (the gateway answered with something that is not TLS, or closed).
        var handshake = Assert.IsType<AuthenticationException>(failure.InnerException);
        Assert.IsType<IOException>(handshake.InnerException);
        Assert.Contains("do the silos use TLS?", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APlainClientAgainstATlsSilo_FailsFast_SayingTheGatewayMayRequireTls()
    {
        // The silo's TLS reads the client's Orleans preamble as a bad ClientHello and closes the connection.
        var options = tlsSilo.Silo.ClientOptions();
        options.ConnectTimeout = HandshakeClosedConnectFailureTests.ConnectTimeout;

        var failure = await HandshakeClosedConnectFailureTests.ConnectExpectingClosedHandshakeAsync(options);

        Assert.Contains("it may require TLS (set Tls.Enabled", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATlsClientAgainstAGatewayThatDoesNotAnswerYet_KeepsTryingUntilTheConnectTimeout()
    {
        // A silo still starting has bound its gateway port but not yet started serving it: the connection is accepted
        // and the TLS handshake gets no answer. That is a timeout to retry, not a TLS failure (before: it failed as
        // one once the handshake timed out, and a TLS silo started under load could not be connected to).
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var options = new GranaryClientOptions
        {
            Gateways = [$"127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}"],
            ConnectTimeout = TimeSpan.FromSeconds(25), // longer than the TLS handshake timeout (10 s)
            Tls = new GranaryClientTlsOptions { Enabled = true, TrustedCaPath = tlsSilo.Trusted.CaPath },
        };

        var clock = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<GranaryException>(async () =>
        {
            await using var client = await GranaryClient.ConnectAsync(options);
        });

        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(24), $"gave up after {clock.Elapsed}: {failure.Code} {failure.Message}");
        Assert.Equal(GranaryErrorCode.Timeout, failure.Code);
    }

    [Fact]
    public async Task TheSameClients_WithTheRightSettings_Connect()
    {
        // The two failures above are the settings, not the silos.
        await using (var tls = await GranaryClient.ConnectAsync(tlsSilo.ClientOptions()))
            Assert.NotNull(await tls.Admin.ListTopicsAsync());
        await using (var plain = await GranaryClient.ConnectAsync(plainSilo.Silo.ClientOptions()))
            Assert.NotNull(await plain.Admin.ListTopicsAsync());
    }

    /// <summary>Connects with <paramref name="options"/>, which must fail promptly as a TLS handshake failure.</summary>
    internal static async Task<GranaryException> ConnectExpectingTlsFailureAsync(GranaryClientOptions options)
    {
        var clock = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<GranaryException>(async () =>
        {
            await using var client = await GranaryClient.ConnectAsync(options);
        });
        Assert.True(clock.Elapsed < Prompt, $"the TLS failure took {clock.Elapsed}: {failure.Message}");
        // Distinct from a refused connection (PartitionUnavailable) and from the connect timeout (Timeout).
        Assert.Equal(GranaryErrorCode.Unauthenticated, failure.Code);
        Assert.StartsWith("TLS handshake with ", failure.Message, StringComparison.Ordinal);
        Assert.NotNull(failure.InnerException);
        return failure;
    }
}
