namespace Granary.Tests.Security;

/// <summary>
/// One real silo process per test class with TLS on, its PKI (<see cref="Trusted"/>) and a second, unrelated one
/// (<see cref="Untrusted"/>) in a temp directory. Started once a trusted client has connected, so that a refused
/// connection in a test is refused by TLS and not by a silo still starting.
/// </summary>
public abstract class TlsSiloFixture : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private SiloProcess? _silo;

    /// <summary>Whether the silo requires client certificates (<c>Granary:Tls:MutualTls</c>).</summary>
    protected abstract bool MutualTls { get; }

    public TestCertificates Trusted { get; private set; } = null!;

    public TestCertificates Untrusted { get; private set; } = null!;

    internal SiloProcess Silo => _silo ?? throw new InvalidOperationException("the silo is not started");

    /// <summary>Client options for the silo, TLS on and trusting the silo's CA, with no client certificate.</summary>
    public GranaryClientOptions ClientOptions(TimeSpan? connectTimeout = null)
    {
        var options = Silo.ClientOptions();
        options.ConnectTimeout = connectTimeout ?? options.ConnectTimeout;
        options.Tls = new GranaryClientTlsOptions { Enabled = true, TrustedCaPath = Trusted.CaPath };
        return options;
    }

    /// <summary>Client options that also present <paramref name="certificates"/>' client certificate.</summary>
    public GranaryClientOptions ClientOptions(TestCertificates certificates, TimeSpan? connectTimeout = null)
    {
        var options = ClientOptions(connectTimeout);
        options.Tls.CertificatePath = certificates.ClientCertificatePath;
        options.Tls.KeyPath = certificates.ClientKeyPath;
        return options;
    }

    public async ValueTask InitializeAsync()
    {
        Trusted = TestCertificates.Create(_directory.Path, "trusted");
        Untrusted = TestCertificates.Create(_directory.Path, "untrusted");
        _silo = new SiloProcess(Path.Combine(_directory.Path, "data"),
        [
            "--Granary:Tls:Enabled=true",
            $"--Granary:Tls:MutualTls={MutualTls}",
            $"--Granary:Tls:CertificatePath={Trusted.SiloCertificatePath}",
            $"--Granary:Tls:KeyPath={Trusted.SiloKeyPath}",
            $"--Granary:Tls:TrustedCaPath={Trusted.CaPath}",
        ]);
        _silo.Start();
        try
        {
            await using var ready = await GranaryClient.ConnectAsync(ClientOptions(Trusted));
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"The TLS silo did not accept a trusted client: {e.Message}\nSilo output:\n{string.Join('\n', Silo.RecentOutput.TakeLast(80))}", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_silo is not null) await _silo.DisposeAsync();
        _directory.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A silo with mutual TLS: clients must present a certificate its CA issued.</summary>
public sealed class MutualTlsSiloFixture : TlsSiloFixture
{
    protected override bool MutualTls => true;
}

/// <summary>A silo with TLS but no client certificates required.</summary>
public sealed class ServerTlsSiloFixture : TlsSiloFixture
{
    protected override bool MutualTls => false;
}
