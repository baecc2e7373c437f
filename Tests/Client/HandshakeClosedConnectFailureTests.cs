using System.Diagnostics;
using Granary.Tests.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Granary.Tests.Client;

/// <summary>
/// A gateway that accepts the TCP connection and closes it during the connection handshake (a TLS gateway reading a
/// plain client's preamble, a mutual-TLS gateway refusing the client's certificate) fails the connect within a few
/// seconds as <see cref="GranaryErrorCode.Unauthenticated"/> with the probable causes, not at the connect timeout
/// without one (issue 20, item 4: refused vs timed out vs TLS). One silo with mutual TLS; the plain client against a
/// silo with server-only TLS is in <see cref="TlsConnectFailureTests"/>.
/// </summary>
[Trait("Category", "Integration")]
public sealed class HandshakeClosedConnectFailureTests(MutualTlsSiloFixture fixture) : IClassFixture<MutualTlsSiloFixture>
{
    /// <summary>Far longer than three closed handshakes take, so that only a connect that waited for it fails the test.</summary>
    internal static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(60);

    /// <summary>A prompt failure: three attempts and their back-off (about 5 s) with room for a loaded machine.</summary>
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task APlainClient_AgainstAMutualTlsSilo_FailsFast_SayingTheGatewayMayRequireTls()
    {
        var options = fixture.Silo.ClientOptions();
        options.ConnectTimeout = ConnectTimeout;
        // It covers refused connections (a silo still starting), not a gateway that closes the handshake.
        options.RetryRefusedConnections = true;

        var failure = await ConnectExpectingClosedHandshakeAsync(options);

        Assert.Contains("it may require TLS (set Tls.Enabled", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATlsClientWithoutACertificate_AgainstAMutualTlsSilo_FailsFast_SayingItPresentsNone()
    {
        int before = fixture.Silo.CountLogged("Authentication failed");

        var failure = await ConnectExpectingClosedHandshakeAsync(fixture.ClientOptions(ConnectTimeout));

        Assert.Contains("it may require mutual TLS, and this client presents no certificate (set Tls.CertificatePath", failure.Message, StringComparison.Ordinal);
        // It was the silo's TLS that refused the client.
        await Eventually.UntilAsync(() => fixture.Silo.CountLogged("Authentication failed") > before);
    }

    [Fact]
    public async Task ATlsClientWithACertificateTheSiloDoesNotTrust_FailsFast_NamingTheCertificate()
    {
        var options = fixture.ClientOptions(fixture.Untrusted, ConnectTimeout);

        var failure = await ConnectExpectingClosedHandshakeAsync(options);

        Assert.Contains($"it may refuse this client's certificate '{fixture.Untrusted.ClientCertificatePath}'", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APlainClient_WhoseConnectTimeoutEndsBeforeTheThirdAttempt_TimesOut_WithTheProbableCause()
    {
        // The back-off before the third attempt alone is 1.5 s + 3 s, so this timeout always comes first.
        var options = fixture.Silo.ClientOptions();
        options.ConnectTimeout = TimeSpan.FromSeconds(4.4);

        var failure = await Assert.ThrowsAsync<GranaryException>(async () =>
        {
            await using var client = await GranaryClient.ConnectAsync(options);
        });

        Assert.Equal(GranaryErrorCode.Timeout, failure.Code);
        Assert.Contains("closed the connection during the handshake", failure.Message, StringComparison.Ordinal);
        Assert.Contains("it may require TLS (set Tls.Enabled", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AHostWithAPlainClient_FailsItsStartFast_AndLogsTheCauseThroughTheHostsLogging()
    {
        using var logs = new ConnectFailureTests.CollectingLoggerProvider();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddProvider(logs);
        builder.Services.AddGranaryClient(o =>
        {
            o.Gateways = [$"127.0.0.1:{fixture.Silo.GatewayPort}"];
            o.ConnectTimeout = ConnectTimeout;
        });
        using var host = builder.Build();

        var clock = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<GranaryException>(() => host.StartAsync());

        Assert.True(clock.Elapsed < Prompt, $"{failure.Code} after {clock.Elapsed}: {failure.Message}");
        Assert.Equal(GranaryErrorCode.Unauthenticated, failure.Code);
        Assert.Contains("closed the connection during the handshake", failure.Message, StringComparison.Ordinal);
        Assert.Contains(logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("it may require TLS", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ATlsClientWithATrustedCertificate_Connects()
    {
        // The failures above are the clients' settings, not the silo.
        await using var client = await GranaryClient.ConnectAsync(fixture.ClientOptions(fixture.Trusted));
        Assert.NotNull(await client.Admin.ListTopicsAsync());
    }

    /// <summary>
    /// Connects with <paramref name="options"/>, which must fail promptly because the gateway closed the connection
    /// during the handshake; the failure is logged through the client's logger factory, and every attempt before it.
    /// </summary>
    internal static async Task<GranaryException> ConnectExpectingClosedHandshakeAsync(GranaryClientOptions options)
    {
        using var logs = new ConnectFailureTests.CollectingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        options.LoggerFactory = factory;
        var clock = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<GranaryException>(async () =>
        {
            await using var client = await GranaryClient.ConnectAsync(options);
        });
        string seen = $"{failure.Code} after {clock.Elapsed}: {failure.Message}\n{string.Join('\n', logs.Lines.Where(l => l.Contains("attempt", StringComparison.Ordinal)))}\n{failure}";
        // Before: nothing until the connect timeout, then a Timeout that could only guess.
        Assert.True(clock.Elapsed < Prompt, seen);
        Assert.Equal(GranaryErrorCode.Unauthenticated, failure.Code);
        Assert.Contains("closed the connection during the handshake (3 attempts in a row)", failure.Message, StringComparison.Ordinal);
        Assert.NotNull(failure.InnerException);
        Assert.Contains(logs.Lines, l => l.Contains("Connection attempt 3 failed (ClosedDuringHandshake)", StringComparison.Ordinal));
        Assert.Contains(logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("closed the connection during the handshake", StringComparison.Ordinal));
        return failure;
    }
}
