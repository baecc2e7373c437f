namespace Granary.Tests.Security;

/// <summary>A real silo with TLS but without mutual TLS: clients need no certificate, but must trust the silo's.</summary>
public sealed class ServerOnlyTlsTests(ServerTlsSiloFixture fixture) : IClassFixture<ServerTlsSiloFixture>
{
    [Fact]
    public async Task AClientWithoutACertificate_ThatTrustsTheCa_Connects_AndProducesAndConsumes()
    {
        await using var client = await GranaryClient.ConnectAsync(fixture.ClientOptions());
        await client.Admin.CreateTopicAsync("tls-events");
        await using var producer = client.CreateProducer("tls-events");
        await producer.SendAsync(new OutgoingMessage("server-authenticated"u8.ToArray()));
        await using var consumer = client.CreateConsumer("tls-events", "audit", new ConsumerOptions { AckTimeout = ClientTestExtensions.NoExpiry, PollWait = TimeSpan.FromMilliseconds(200) });
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync());
        Assert.Equal("server-authenticated", Encoding.UTF8.GetString(Assert.Single(received).Payload.Span));
    }

    [Fact]
    public async Task AClientThatTrustsAnotherCa_RefusesTheSilo_AndSaysWhy()
    {
        var options = fixture.ClientOptions(TlsTests.RefusalDeadline);
        options.Tls.TrustedCaPath = fixture.Untrusted.CaPath;
        var failure = await Client.TlsConnectFailureTests.ConnectExpectingTlsFailureAsync(options);
        Assert.Contains("this client refused the silo's certificate: certificate 'CN=granary-silo' (issuer 'CN=Granary Test CA trusted') does not chain to the trusted CA (CN=Granary Test CA untrusted)",
            failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientThatExpectsAnotherHostName_RefusesTheSilo()
    {
        var options = fixture.ClientOptions(TlsTests.RefusalDeadline);
        options.Tls.TargetHost = "broker.example.com";
        var failure = await Client.TlsConnectFailureTests.ConnectExpectingTlsFailureAsync(options);
        Assert.Contains("certificate 'CN=granary-silo' is not issued for host 'broker.example.com'", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientThatExpectsTheSilosHostName_Connects()
    {
        var options = fixture.ClientOptions();
        options.Tls.TargetHost = "localhost";
        await using var client = await GranaryClient.ConnectAsync(options);
        Assert.DoesNotContain("tls-never-created", await client.Admin.ListTopicsAsync());
    }

    [Fact]
    public async Task ADevelopmentClientThatAcceptsAnyCertificate_Connects()
    {
        var options = fixture.ClientOptions();
        options.Tls = new GranaryClientTlsOptions { Enabled = true, AllowUntrustedServerCertificate = true };
        await using var client = await GranaryClient.ConnectAsync(options);
        Assert.DoesNotContain("tls-never-created", await client.Admin.ListTopicsAsync());
    }

    [Fact]
    public async Task AClientWithoutTls_IsRefused()
    {
        var options = fixture.ClientOptions(TlsTests.RefusalDeadline);
        options.Tls = new GranaryClientTlsOptions();
        var failure = await TlsTests.ConnectExpectingRefusalAsync(options);
        Assert.Contains("it may require TLS", failure.Message, StringComparison.Ordinal);
    }
}
