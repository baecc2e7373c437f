using System.Security.Cryptography.X509Certificates;
using Granary.Grains.Hosting;
using Granary.Grains.Security;

namespace Granary.Tests.Security;

/// <summary>The TLS settings of silo and client reject inconsistent or missing input with a message that names the setting.</summary>
public sealed class TlsOptionsTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly TestCertificates _trusted;
    private readonly TestCertificates _other;

    public TlsOptionsTests()
    {
        _trusted = TestCertificates.Create(_directory.Path, "trusted");
        _other = TestCertificates.Create(_directory.Path, "other");
    }

    public void Dispose() => _directory.Dispose();

    private GranaryTlsOptions Silo() => new()
    {
        Enabled = true, CertificatePath = _trusted.SiloCertificatePath, KeyPath = _trusted.SiloKeyPath, TrustedCaPath = _trusted.CaPath, MutualTls = true,
    };

    [Fact]
    public void Disabled_ChecksNothing() =>
        new GranaryTlsOptions { Enabled = false, CertificatePath = "/nowhere.pem", StoreSubject = "CN=x" }.Validate();

    [Fact]
    public void Enabled_WithoutACertificate_Throws()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new GranaryTlsOptions { Enabled = true }.Validate());
        Assert.Contains("no certificate is given", e.Message, StringComparison.Ordinal);
        Assert.Contains("Granary:Tls:CertificatePath", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FileAndStore_Throws()
    {
        var options = Silo();
        options.StoreSubject = "CN=granary-silo";
        var e = Assert.Throws<InvalidOperationException>(options.Validate);
        Assert.Contains("both set", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("CertificatePath")]
    [InlineData("KeyPath")]
    [InlineData("TrustedCaPath")]
    public void AMissingFile_Throws_NamingTheSetting(string setting)
    {
        var options = Silo();
        string missing = Path.Combine(_directory.Path, "missing.pem");
        switch (setting)
        {
            case "CertificatePath": options.CertificatePath = missing; break;
            case "KeyPath": options.KeyPath = missing; break;
            default: options.TrustedCaPath = missing; break;
        }
        var e = Assert.Throws<InvalidOperationException>(options.Validate);
        Assert.Contains($"Granary:Tls:{setting} '{missing}' does not exist", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AKeyFileBesideAPfx_Throws()
    {
        string pfx = Path.Combine(_directory.Path, "silo.pfx");
        using (var pem = X509Certificate2.CreateFromPemFile(_trusted.SiloCertificatePath, _trusted.SiloKeyPath)) File.WriteAllBytes(pfx, pem.Export(X509ContentType.Pkcs12, "secret"));
        var options = Silo();
        options.CertificatePath = pfx;
        var e = Assert.Throws<InvalidOperationException>(options.Validate);
        Assert.Contains("PKCS#12", e.Message, StringComparison.Ordinal);

        options.KeyPath = null;
        options.CertificatePassword = "secret";
        using var loaded = options.LoadCertificate();
        Assert.True(loaded.HasPrivateKey);
        Assert.Equal("CN=granary-silo", loaded.Subject);
    }

    [Fact]
    public void AStoreSubjectWithAKeyFile_Throws()
    {
        var options = new GranaryTlsOptions { Enabled = true, StoreSubject = "granary-silo", KeyPath = _trusted.SiloKeyPath };
        Assert.Contains("X509 store", Assert.Throws<InvalidOperationException>(options.Validate).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AStoreSubjectNotInTheStore_FailsToLoad_NamingTheStore()
    {
        var options = new GranaryTlsOptions { Enabled = true, StoreSubject = $"granary-absent-{Guid.NewGuid():N}", TrustedCaPath = _trusted.CaPath };
        options.Validate();
        var e = Assert.Throws<InvalidOperationException>(() => options.LoadCertificate());
        Assert.Contains("CurrentUser/My", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidPemFiles_LoadTheCertificateWithItsKey_AndTheCa()
    {
        using var certificate = Silo().LoadCertificate();
        Assert.True(certificate.HasPrivateKey);
        Assert.Equal("CN=Granary Test CA trusted", Assert.Single(Silo().LoadTrustedRoots()!).Subject);
    }

    [Fact]
    public void ACertificateWithoutServerAuth_CannotBeTheSilos()
    {
        var options = Silo();
        options.CertificatePath = _trusted.ClientCertificatePath;
        options.KeyPath = _trusted.ClientKeyPath;
        var e = Assert.Throws<InvalidOperationException>(() => options.LoadCertificate());
        Assert.Contains("lacks the Extended Key Usage serverAuth", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AKeyThatIsNotTheCertificates_FailsToLoad()
    {
        var options = Silo();
        options.KeyPath = _other.SiloKeyPath;
        var e = Assert.Throws<InvalidOperationException>(() => options.LoadCertificate());
        Assert.Contains($"Could not load the certificate '{_trusted.SiloCertificatePath}' with key '{_other.SiloKeyPath}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheValidator_AcceptsOnlyItsCasCertificates_ForTheRightUsage()
    {
        var roots = TlsCertificates.LoadTrustedRoots(_trusted.CaPath);
        using var client = X509Certificate2.CreateFromPemFile(_trusted.ClientCertificatePath, _trusted.ClientKeyPath);
        using var otherClient = X509Certificate2.CreateFromPemFile(_other.ClientCertificatePath, _other.ClientKeyPath);
        using var silo = X509Certificate2.CreateFromPemFile(_trusted.SiloCertificatePath, _trusted.SiloKeyPath);

        Assert.True(new TlsCertificateValidator(roots, TlsCertificates.ClientAuthenticationOid).IsAcceptable(client, null, out _));
        Assert.False(new TlsCertificateValidator(roots, TlsCertificates.ClientAuthenticationOid).IsAcceptable(otherClient, null, out string? untrusted));
        Assert.Contains("does not chain to the trusted CA", untrusted, StringComparison.Ordinal);
        // A client certificate (clientAuth only) cannot pass as a silo's.
        Assert.False(new TlsCertificateValidator(roots, TlsCertificates.ServerAuthenticationOid).IsAcceptable(client, null, out _));
        Assert.True(new TlsCertificateValidator(roots, TlsCertificates.ServerAuthenticationOid, "127.0.0.1").IsAcceptable(silo, null, out _));
        Assert.False(new TlsCertificateValidator(roots, TlsCertificates.ServerAuthenticationOid, "other.example").IsAcceptable(silo, null, out _));

        // Silo to silo: both usages, so the CA's client certificate is refused even by the accepting (client-facing) side.
        var silos = new TlsCertificateValidator(roots, [TlsCertificates.ServerAuthenticationOid, TlsCertificates.ClientAuthenticationOid]);
        Assert.True(silos.IsAcceptable(silo, null, out _));
        Assert.False(silos.IsAcceptable(client, null, out string? notASilo));
        Assert.Contains("serverAuth (1.3.6.1.5.5.7.3.1) and clientAuth (1.3.6.1.5.5.7.3.2)", notASilo, StringComparison.Ordinal);
    }

    [Fact]
    public void NoTrustedCa_Throws()
    {
        var options = Silo();
        options.TrustedCaPath = null;
        var e = Assert.Throws<InvalidOperationException>(options.Validate);
        Assert.Contains("Granary:Tls:TrustedCaPath is required", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClientOptions_RejectInconsistentSettings()
    {
        Assert.Contains("Tls.TargetHost", Assert.Throws<ArgumentException>(() => new GranaryClientTlsOptions { Enabled = true }.Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("without Tls.CertificatePath", Assert.Throws<ArgumentException>(() =>
            new GranaryClientTlsOptions { Enabled = true, TrustedCaPath = _trusted.CaPath, KeyPath = _trusted.ClientKeyPath }.Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("AllowUntrustedServerCertificate", Assert.Throws<ArgumentException>(() =>
            new GranaryClientTlsOptions { Enabled = true, TrustedCaPath = _trusted.CaPath, AllowUntrustedServerCertificate = true }.Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", Assert.Throws<ArgumentException>(() =>
            new GranaryClientTlsOptions { Enabled = true, TrustedCaPath = Path.Combine(_directory.Path, "nope.pem") }.Validate()).Message, StringComparison.Ordinal);
        new GranaryClientTlsOptions { Enabled = true, TrustedCaPath = _trusted.CaPath, CertificatePath = _trusted.ClientCertificatePath, KeyPath = _trusted.ClientKeyPath }.Validate();
        new GranaryClientTlsOptions { Enabled = true, TargetHost = "broker.example.com" }.Validate();
        new GranaryClientTlsOptions { Enabled = true, AllowUntrustedServerCertificate = true }.Validate();
    }

    [Fact]
    public async Task AClientCertificateThatCannotBeLoaded_FailsTheConnect_BeforeAnyConnection()
    {
        var options = new GranaryClientOptions
        {
            Gateways = ["127.0.0.1:1"],
            Tls = new GranaryClientTlsOptions { Enabled = true, TrustedCaPath = _trusted.CaPath, CertificatePath = _trusted.ClientCertificatePath, KeyPath = _other.ClientKeyPath },
        };
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => GranaryClient.ConnectAsync(options));
        Assert.Contains("Could not load the certificate", e.Message, StringComparison.Ordinal);
    }
}
