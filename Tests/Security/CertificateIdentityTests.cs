using Granary.LoadTest.Targets;

namespace Granary.Tests.Security;

/// <summary>
/// End to end over mutual TLS with security on (a real silo process): a client that gives only its certificate signs
/// in as the certificate's common name and acts as that principal; the same connection without the sign-in has no
/// credential and is refused.
/// </summary>
public sealed class CertificateIdentityTests : IAsyncLifetime
{
    private const string BootstrapKey = "mtls-bootstrap-key-0123456789abcdef0123456789";
    private readonly TempDirectory _directory = new();
    private TestCertificates _certificates = null!;
    private SiloProcess? _silo;

    public async ValueTask InitializeAsync()
    {
        _certificates = TestCertificates.Create(_directory.Path, "identity");
        _silo = new SiloProcess(Path.Combine(_directory.Path, "data"),
        [
            "--Granary:Tls:Enabled=true",
            "--Granary:Tls:MutualTls=true",
            $"--Granary:Tls:CertificatePath={_certificates.SiloCertificatePath}",
            $"--Granary:Tls:KeyPath={_certificates.SiloKeyPath}",
            $"--Granary:Tls:TrustedCaPath={_certificates.CaPath}",
            "--Granary:Security:Enabled=true",
            $"--Granary:Security:BootstrapKey={BootstrapKey}",
            // The client certificate's CN: a superuser, so the test needs no rules to show who it acts as.
            "--Granary:Security:Superusers:0=granary-client",
        ]);
        _silo.Start();
        await Task.CompletedTask;
    }

    private GranaryClientOptions Options(bool? useCertificateIdentity)
    {
        var options = _silo!.ClientOptions();
        options.Tls = new GranaryClientTlsOptions
        {
            Enabled = true,
            TrustedCaPath = _certificates.CaPath,
            CertificatePath = _certificates.ClientCertificatePath,
            KeyPath = _certificates.ClientKeyPath,
        };
        options.UseCertificateIdentity = useCertificateIdentity;
        return options;
    }

    [Fact]
    public async Task AClientCertificate_SignsInAsItsCommonName_AndWithoutTheSignInTheClientIsRefused()
    {
        string topic = BrokerClusterFixture.UniqueTopic("mtls");
        GranaryClient signedIn;
        try
        {
            signedIn = await GranaryClient.ConnectAsync(Options(useCertificateIdentity: null));
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"Could not connect: {e.Message}\nSilo output:\n{string.Join('\n', _silo!.RecentOutput.TakeLast(60))}", e);
        }
        await using (signedIn)
        {
            Assert.Equal("granary-client", signedIn.CertificatePrincipal);
            await signedIn.Admin.CreateTopicAsync(topic);
            await using var producer = signedIn.CreateProducer(topic);
            await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes("from a certificate")));
        }

        await using var anonymous = await GranaryClient.ConnectAsync(Options(useCertificateIdentity: false));
        Assert.Null(anonymous.CertificatePrincipal);
        var refused = await Assert.ThrowsAsync<GranaryException>(() => anonymous.Admin.ListTopicsAsync());
        Assert.Equal(GranaryErrorCode.Unauthenticated, refused.Code);
    }

    public async ValueTask DisposeAsync()
    {
        if (_silo is not null) await _silo.DisposeAsync();
        _directory.Dispose();
    }
}
