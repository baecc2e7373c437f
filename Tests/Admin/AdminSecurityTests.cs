using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Granary.Silo.Admin;
using Granary.Silo.Startup;
using Microsoft.Extensions.Configuration;

namespace Granary.Tests.Admin;

/// <summary>A silo started with an admin API key refuses API and metrics calls without it.</summary>
public sealed class AdminApiKeyTests(AdminApiKeyTests.KeyedSilo silo) : IClassFixture<AdminApiKeyTests.KeyedSilo>
{
    public const string Key = "s3cret-key";

    public sealed class KeyedSilo() : AdminSilo($"--Granary:Admin:ApiKey={Key}");

    [Theory]
    [InlineData(null, null, HttpStatusCode.Unauthorized)]
    [InlineData("X-Api-Key", "wrong", HttpStatusCode.Unauthorized)]
    [InlineData("X-Api-Key", Key, HttpStatusCode.OK)]
    [InlineData("Authorization", "Bearer " + Key, HttpStatusCode.OK)]
    [InlineData("Authorization", "Bearer wrong", HttpStatusCode.Unauthorized)]
    public async Task TheApi_NeedsTheKey_InAHeaderOrAsABearerToken(string? header, string? value, HttpStatusCode expected)
    {
        foreach (string path in new[] { "api/v1/topics", "api/v1/cluster", "openapi/v1.json" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (header is not null) request.Headers.TryAddWithoutValidation(header, value);
            using var response = await silo.Http.SendAsync(request);
            Assert.Equal(expected, response.StatusCode);
            if (expected == HttpStatusCode.Unauthorized)
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task TheCli_ExitsUnauthorizedWithoutTheKey_AndWorksWithIt()
    {
        var refused = await Cli.CliTests.Run(silo.Silo.AdminUrl, "topics", "list");
        Assert.Equal(Granary.Cli.ExitCodes.Unauthorized, refused.Code);
        Assert.Contains("API key required", refused.Error, StringComparison.Ordinal);
        var allowed = await Cli.CliTests.Run(silo.Silo.AdminUrl, "topics", "list", "--api-key", Key);
        Assert.Equal(Granary.Cli.ExitCodes.Ok, allowed.Code);
    }

    [Fact]
    public async Task HealthProbesAndTheConsolePage_NeedNoKey()
    {
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("health/ready")).StatusCode);
        var page = await silo.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
    }
}

/// <summary>Where the admin API may listen: with security off, anything beyond loopback needs a key or client certificates.</summary>
public sealed class AdminOptionsTests
{
    [Theory]
    [InlineData("http://127.0.0.1:30080")]
    [InlineData("http://localhost:30080")]
    [InlineData("http://[::1]:30080;http://127.0.0.1:30081")]
    public void LoopbackUrls_NeedNoKey(string urls)
    {
        new AdminOptions { Urls = urls }.Validate();
        ListenerExposure.EnsureAllowed(ListenerExposure.HttpListeners(new ConfigurationBuilder().Build(), new AdminOptions { Urls = urls }), securityEnabled: false);
    }

    [Theory]
    [InlineData("http://0.0.0.0:30080")]
    [InlineData("http://*:30080")]
    [InlineData("http://+:30080")]
    [InlineData("http://10.1.2.3:30080")]
    [InlineData("http://127.0.0.1:30080;http://granary.example.com:80")]
    public void UrlsBeyondLoopback_WithoutAKeyOrSecurity_AreRefused(string urls)
    {
        var configuration = new ConfigurationBuilder().Build();
        var error = Assert.Throws<SiloConfigurationException>(() => ListenerExposure.EnsureAllowed(ListenerExposure.HttpListeners(configuration, new AdminOptions { Urls = urls }), securityEnabled: false));
        Assert.Contains("Granary:Admin:ApiKey", error.Message, StringComparison.Ordinal);
        Assert.Contains("Granary:Security:Enabled", error.Message, StringComparison.Ordinal);
        ListenerExposure.EnsureAllowed(ListenerExposure.HttpListeners(configuration, new AdminOptions { Urls = urls, ApiKey = "k" }), securityEnabled: false);
        ListenerExposure.EnsureAllowed(ListenerExposure.HttpListeners(configuration, new AdminOptions { Urls = urls }), securityEnabled: true);
        new AdminOptions { Urls = urls }.Validate();
    }

    [Theory]
    [InlineData("")]
    [InlineData("ftp://127.0.0.1:21")]
    [InlineData("not a url")]
    public void UnusableUrls_AreRefused(string urls) =>
        Assert.Throws<InvalidOperationException>(() => new AdminOptions { Urls = urls }.Validate());

    [Fact]
    public void ClientCertificates_LetTheApiLeaveLoopback_OnlyOverHttps()
    {
        string ca = Path.GetTempFileName();
        try
        {
            new AdminOptions { Urls = "https://0.0.0.0:30443", CertificatePath = ca, ClientCertificateCaPath = ca }.Validate();
            Assert.Throws<InvalidOperationException>(() => new AdminOptions { Urls = "http://0.0.0.0:30080", ClientCertificateCaPath = ca }.Validate());
            Assert.Throws<InvalidOperationException>(() => new AdminOptions { Urls = "https://127.0.0.1:30443", ClientCertificateCaPath = ca }.Validate());
            Assert.Throws<InvalidOperationException>(() => new AdminOptions { Urls = "https://127.0.0.1:30443", CertificatePath = ca + ".missing" }.Validate());
        }
        finally
        {
            File.Delete(ca);
        }
    }

    [Fact]
    public void WithSecurityOn_TheSharedKeyIsRefused_AndUrlsBeyondLoopbackNeedNone()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new AdminOptions { ApiKey = "k" }.Validate(securityEnabled: true));
        Assert.Contains("Granary:Security:BootstrapKey", error.Message, StringComparison.Ordinal);
        new AdminOptions { Urls = "http://0.0.0.0:30080" }.Validate(securityEnabled: true);
    }

    [Fact]
    public void ATurnedOffApi_IsNotChecked() => new AdminOptions { Enabled = false, Urls = "http://0.0.0.0:1" }.Validate();
}

/// <summary>
/// A keyless silo on loopback refuses what a web page of another site could make a visiting browser send it: changes
/// marked cross-site, and requests for a host name that is not loopback (DNS rebinding).
/// </summary>
public sealed class CrossSiteRequestTests(CrossSiteRequestTests.KeylessSilo silo) : IClassFixture<CrossSiteRequestTests.KeylessSilo>
{
    public sealed class KeylessSilo() : AdminSilo();

    [Theory]
    [InlineData("Sec-Fetch-Site", "cross-site")]
    [InlineData("Sec-Fetch-Site", "same-site")]
    [InlineData("Origin", "http://evil.example")]
    [InlineData("Origin", "null")]
    public async Task AChangeFromAnotherSite_IsRefused_AndChangesNothing(string header, string value)
    {
        string topic = $"csrf-{Guid.NewGuid():N}";
        using var request = CreateTopic(topic);
        request.Headers.TryAddWithoutValidation(header, value);
        using var response = await silo.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("/problems/cross-site-request", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await silo.Http.GetAsync($"api/v1/topics/{topic}")).StatusCode);
    }

    [Fact]
    public async Task TheConsolesOwnChanges_AndToolsWithoutBrowserHeaders_GetThrough()
    {
        using var console = CreateTopic($"csrf-{Guid.NewGuid():N}");
        console.Headers.TryAddWithoutValidation("Sec-Fetch-Site", "same-origin");
        console.Headers.TryAddWithoutValidation("Origin", silo.Silo.AdminUrl.GetLeftPart(UriPartial.Authority));
        Assert.Equal(HttpStatusCode.Created, (await silo.Http.SendAsync(console)).StatusCode);
        using var origin = CreateTopic($"csrf-{Guid.NewGuid():N}");
        origin.Headers.TryAddWithoutValidation("Origin", silo.Silo.AdminUrl.GetLeftPart(UriPartial.Authority));
        Assert.Equal(HttpStatusCode.Created, (await silo.Http.SendAsync(origin)).StatusCode);
        using var tool = CreateTopic($"csrf-{Guid.NewGuid():N}");
        Assert.Equal(HttpStatusCode.Created, (await silo.Http.SendAsync(tool)).StatusCode);
    }

    [Fact]
    public async Task ARequestForAnotherHostName_IsRefused_EvenARead()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/topics");
        request.Headers.Host = $"rebound.example:{silo.Silo.AdminPort}";
        using var response = await silo.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using var local = new HttpRequestMessage(HttpMethod.Get, "api/v1/topics");
        local.Headers.Host = $"localhost:{silo.Silo.AdminPort}";
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.SendAsync(local)).StatusCode);
    }

    private static HttpRequestMessage CreateTopic(string name) =>
        new(HttpMethod.Post, "api/v1/topics") { Content = JsonContent.Create(new { name }) };
}
