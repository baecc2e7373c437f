using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Granary.Silo.Admin;

namespace Granary.Tests.Admin;

/// <summary>The admin API over HTTPS requiring client certificates from one CA: the other way to let it leave loopback.</summary>
public sealed class AdminClientCertificateTests(AdminClientCertificateTests.MutualTlsSilo silo) : IClassFixture<AdminClientCertificateTests.MutualTlsSilo>
{
    public sealed class MutualTlsSilo : IAsyncLifetime
    {
        private readonly TempDirectory _data = new();
        private SiloProcess? _process;

        public TestCertificates Ca { get; } = new();

        public TestCertificates OtherCa { get; } = new("Someone else's CA");

        public Uri Url { get; } = new($"https://127.0.0.1:{BrokerTarget.FreePort()}/");

        public async ValueTask InitializeAsync()
        {
            var server = Ca.Issue("admin-server");
            _process = new SiloProcess(_data.Path,
            [
                $"--Granary:Admin:Urls={Url.ToString().TrimEnd('/')}",
                $"--Granary:Admin:CertificatePath={server.CertificatePath}",
                $"--Granary:Admin:KeyPath={server.KeyPath}",
                $"--Granary:Admin:ClientCertificateCaPath={Ca.CaPath}",
            ]);
            _process.Start();
            using var http = Client(Ca.Issue("probe"));
            await AdminSilo.WaitUntilReadyAsync(http);
        }

        /// <summary>An HTTPS client that trusts the test CA for the server and presents <paramref name="certificate"/> (or none).</summary>
        public HttpClient Client((string, string)? certificate)
        {
            var handler = new HttpClientHandler
            {
                ServerCertificateCustomValidationCallback = (_, server, _, _) => server is not null && AdminHttps.IssuedBy(server, X509CertificateLoader.LoadCertificateFromFile(Ca.CaPath)),
                ClientCertificateOptions = ClientCertificateOption.Manual,
            };
            if (certificate is { } files) handler.ClientCertificates.Add(TestCertificates.Load(files));
            return new HttpClient(handler) { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(60) };
        }

        public async ValueTask DisposeAsync()
        {
            if (_process is not null) await _process.DisposeAsync();
            Ca.Dispose();
            OtherCa.Dispose();
            _data.Dispose();
        }
    }

    [Fact]
    public async Task AClientWithACertificateFromTheCa_IsServed()
    {
        using var http = silo.Client(silo.Ca.Issue("operator"));
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
        using var http = silo.Client(silo.OtherCa.Issue("intruder"));
        await AssertRefusedAsync(http);
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
