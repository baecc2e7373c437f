using System.Net;
using Granary.Silo.Admin;
using Granary.Silo.Startup;
using Microsoft.Extensions.Configuration;

namespace Granary.Tests.Silo;

/// <summary>
/// Which listeners the secure-defaults rule sees and refuses: only loopback IP addresses and <c>localhost</c> count as
/// loopback; with security off anything else is refused, except the admin API behind its own key or client certificates.
/// </summary>
public sealed class ListenerExposureTests
{
    [Theory]
    [InlineData("http://127.0.0.1:80", true)]
    [InlineData("http://127.1.2.3:80", true)]
    [InlineData("http://localhost:80", true)]
    [InlineData("https://LOCALHOST:443", true)]
    [InlineData("http://[::1]:80", true)]
    [InlineData("http://0.0.0.0:80", false)]
    [InlineData("http://[::]:80", false)]
    [InlineData("http://*:80", false)]
    [InlineData("http://+:80", false)]
    [InlineData("http://192.0.2.1:80", false)]
    [InlineData("http://granary.example.com:80", false)]
    [InlineData("http://localhost.example.com:80", false)]
    [InlineData("not a url", false)]
    public void OnlyLoopbackAddressesAndLocalhost_AreLoopback(string url, bool loopback) =>
        Assert.Equal(loopback, ListenerExposure.IsLoopbackUrl(url));

    [Theory]
    [InlineData("Kestrel:Endpoints:Evil:Url", "http://0.0.0.0:32713")]
    [InlineData("Kestrel:Endpoints:Other:Url", "https://*:8443")]
    [InlineData("urls", "http://127.0.0.1:8080;http://+:8081")]
    public void WebHostListenersBeyondLoopback_AreRefusedWithSecurityOff_EvenWithAnAdminKey(string key, string value)
    {
        var configuration = Configuration((key, value));
        var admin = new AdminOptions { ApiKey = "k" };
        var error = Assert.Throws<SiloConfigurationException>(() => ListenerExposure.EnsureAllowed(ListenerExposure.HttpListeners(configuration, admin), securityEnabled: false));
        Assert.Contains(key == "urls" ? "--urls" : key, error.Message, StringComparison.Ordinal);
        Assert.Contains(ListenerExposure.SecurityEnabledSetting, error.Message, StringComparison.Ordinal);
        ListenerExposure.EnsureAllowed(ListenerExposure.HttpListeners(configuration, admin), securityEnabled: true);
    }

    [Fact]
    public void LoopbackWebHostListeners_AreAllowedWithSecurityOff()
    {
        var configuration = Configuration(("Kestrel:Endpoints:Local:Url", "http://localhost:9000"), ("urls", "http://127.0.0.1:9001;http://[::1]:9002"));
        ListenerExposure.EnsureAllowed(ListenerExposure.HttpListeners(configuration, new AdminOptions()), securityEnabled: false);
    }

    [Fact]
    public void WithTheAdminApiOff_NoHttpListenerIsConsidered()
    {
        // No HTTP server runs then, so Kestrel's settings bind nothing.
        var configuration = Configuration(("Kestrel:Endpoints:Evil:Url", "http://0.0.0.0:32713"));
        Assert.Empty(ListenerExposure.HttpListeners(configuration, new AdminOptions { Enabled = false, Urls = "http://0.0.0.0:1" }));
    }

    [Fact]
    public void AnAdminUrlBeyondLoopback_IsAllowedWithClientCertificates_OnlyOverHttps()
    {
        var configuration = Configuration();
        ListenerExposure.EnsureAllowed(ListenerExposure.HttpListeners(configuration,
            new AdminOptions { Urls = "https://0.0.0.0:30443", ClientCertificateCaPath = "ca.pem" }), securityEnabled: false);
        Assert.Throws<SiloConfigurationException>(() => ListenerExposure.EnsureAllowed(ListenerExposure.HttpListeners(configuration,
            new AdminOptions { Urls = "https://0.0.0.0:30443;http://0.0.0.0:30080", ClientCertificateCaPath = "ca.pem" }), securityEnabled: false));
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("::", false)]
    [InlineData("192.0.2.7", false)]
    public void SiloAndGatewayPorts_BeyondLoopback_AreRefusedWithSecurityOff(string address, bool allowed)
    {
        var ip = IPAddress.Parse(address);
        var listeners = ListenerExposure.OrleansListeners(new OrleansListeningEndpoints(new IPEndPoint(ip, 11111), new IPEndPoint(ip, 30000)), ListenerExposure.ListenAddressSetting);
        Assert.Equal(2, listeners.Count);
        if (allowed) ListenerExposure.EnsureAllowed(listeners, securityEnabled: false);
        else
        {
            var error = Assert.Throws<SiloConfigurationException>(() => ListenerExposure.EnsureAllowed(listeners, securityEnabled: false));
            Assert.Contains(ListenerExposure.ListenAddressSetting, error.Message, StringComparison.Ordinal);
            Assert.Contains(new IPEndPoint(ip, 11111).ToString(), error.Message, StringComparison.Ordinal);
        }
        ListenerExposure.EnsureAllowed(listeners, securityEnabled: true);
    }

    [Fact]
    public void OrleansEndpoints_DefaultToTheAdvertisedAddress_AndAnExplicitListeningEndpointWins()
    {
        var options = new Orleans.Configuration.EndpointOptions { AdvertisedIPAddress = IPAddress.Parse("192.0.2.7"), SiloPort = 11111, GatewayPort = 30000 };
        var endpoints = OrleansListeningEndpoints.From(options);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.7"), 11111), endpoints.Silo);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.7"), 30000), endpoints.Gateway);
        options.SiloListeningEndpoint = new IPEndPoint(IPAddress.Loopback, 11112);
        options.GatewayPort = 0;
        endpoints = OrleansListeningEndpoints.From(options);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 11112), endpoints.Silo);
        Assert.Null(endpoints.Gateway);
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build();
}
