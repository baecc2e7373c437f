using System.Net;
using System.Security.Authentication;
using Granary.Grains.Security;
using Granary.Tests.Security;

namespace Granary.Tests.Admin;

/// <summary>The admin API over HTTPS requiring client certificates from one CA: the other way to let it leave loopback.</summary>
public sealed class AdminClientCertificateTests(AdminClientCertificateTests.MutualTlsSilo silo) : IClassFixture<AdminClientCertificateTests.MutualTlsSilo>
{
    public class MutualTlsSilo : IAsyncLifetime
    {
        private readonly TempDirectory _data = new();
        private readonly TempDirectory _certificates = new();
        private readonly string[] _settings;
        private SiloProcess? _process;

        public MutualTlsSilo()
            : this([])
        {
        }

        /// <summary>A silo with <paramref name="settings"/> besides the HTTPS ones.</summary>
        protected MutualTlsSilo(string[] settings)
        {
            _settings = settings;
            Ca = TestCertificates.Create(_certificates.Path, "admin");
            OtherCa = TestCertificates.Create(_certificates.Path, "other");
        }

        public TestCertificates Ca { get; }

        public TestCertificates OtherCa { get; }

        public Uri Url { get; } = new($"https://127.0.0.1:{FreePorts.Next()}/");

        public async ValueTask InitializeAsync()
        {
            _process = new SiloProcess(_data.Path,
            [
                $"--Granary:Admin:Urls={Url.ToString().TrimEnd('/')}",
                $"--Granary:Admin:CertificatePath={Ca.SiloCertificatePath}",
                $"--Granary:Admin:KeyPath={Ca.SiloKeyPath}",
                $"--Granary:Admin:ClientCertificateCaPath={Ca.CaPath}",
                .. _settings,
            ]);
            _process.Start();
            using var http = Client(Ca);
            await AdminSilo.WaitUntilReadyAsync(http);
        }

        /// <summary>An HTTPS client that trusts the test CA for the server and presents the client certificate of <paramref name="issuer"/> (or none).</summary>
        public HttpClient Client(TestCertificates? issuer)
        {
            var server = new TlsCertificateValidator(TlsCertificates.LoadTrustedRoots(Ca.CaPath), TlsCertificates.ServerAuthenticationOid, "127.0.0.1");
            var handler = new HttpClientHandler
            {
                ServerCertificateCustomValidationCallback = (_, certificate, chain, _) => certificate is not null && server.IsAcceptable(certificate, chain, out _),
                ClientCertificateOptions = ClientCertificateOption.Manual,
            };
            if (issuer is not null) handler.ClientCertificates.Add(TlsCertificates.LoadFromFile(issuer.ClientCertificatePath, issuer.ClientKeyPath));
            return new HttpClient(handler) { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(60) };
        }

        public async ValueTask DisposeAsync()
        {
            if (_process is not null) await _process.DisposeAsync();
            _certificates.Dispose();
            _data.Dispose();
            GC.SuppressFinalize(this);
        }
    }

    [Fact]
    public async Task AClientWithACertificateFromTheCa_IsServed()
    {
        using var http = silo.Client(silo.Ca);
        using var response = await http.GetAsync("api/v1/topics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AClientWithoutACertificate_IsRefused()
    {
        using var http = silo.Client(null);
        await AssertRefusedAsync(http);
    }

    [Fact]
    public async Task AClientWithACertificateFromAnotherCa_IsRefused()
    {
        using var http = silo.Client(silo.OtherCa);
        await AssertRefusedAsync(http);
    }

    [Fact]
    public async Task TheCli_ReachesIt_WithTheCaAndAClientCertificate_AndIsRefusedWithout()
    {
        var served = await Cli.CliTests.Run(silo.Url, "topics", "list", "--ca", silo.Ca.CaPath, "--cert", silo.Ca.ClientCertificatePath, "--key", silo.Ca.ClientKeyPath);
        Assert.True(served.Code == Granary.Cli.ExitCodes.Ok, served.Error);

        var refused = await Cli.CliTests.Run(silo.Url, "topics", "list", "--ca", silo.Ca.CaPath);
        Assert.Equal(Granary.Cli.ExitCodes.Unreachable, refused.Code);
        // The silo's certificate is not from the CA given: refused by the CLI before it sends anything.
        var untrusted = await Cli.CliTests.Run(silo.Url, "topics", "list", "--ca", silo.OtherCa.CaPath, "--cert", silo.Ca.ClientCertificatePath, "--key", silo.Ca.ClientKeyPath);
        Assert.Equal(Granary.Cli.ExitCodes.Unreachable, untrusted.Code);
        var missing = await Cli.CliTests.Run(silo.Url, "topics", "list", "--cert", silo.Ca.ClientCertificatePath + ".missing");
        Assert.Equal(Granary.Cli.ExitCodes.Usage, missing.Code);
    }

    // Kestrel ends the handshake (or, with TLS 1.3, the connection right after it) when the certificate is missing or
    // not from the CA: the client sees an HttpRequestException, never a response.
    private static async Task AssertRefusedAsync(HttpClient http)
    {
        var error = await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetAsync("api/v1/topics"));
        Assert.True(error.InnerException is IOException or AuthenticationException or System.Net.Sockets.SocketException || error.HttpRequestError != HttpRequestError.Unknown,
            $"unexpected failure: {error}");
    }
}
