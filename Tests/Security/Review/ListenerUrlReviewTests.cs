using System.Net;
using Granary.Silo.Admin;
using Granary.Silo.Startup;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Tests.Security.Review;

/// <summary>
/// Review of issue 17 (secure defaults): the loopback rule reads a URL's host as <see cref="Uri"/> does, but Kestrel
/// reads it with its own parser. A URL whose two readings differ must not pass as loopback.
/// </summary>
public sealed class ListenerUrlReviewTests
{
    // Review finding 5 (fixed): Uri takes "anyone@127.0.0.1" as user info + host 127.0.0.1 (loopback); Kestrel's BindingAddress
    // takes the whole "anyone@127.0.0.1" as the host, which is no IP address and not "localhost", so it binds every address.
    [Theory]
    [InlineData("Kestrel:Endpoints:Evil:Url", "http://anyone@127.0.0.1:32713")]
    [InlineData("urls", "http://anyone@localhost:32714")]
    public void AUrlWithUserInfo_BeforeALoopbackHost_IsRefusedWithSecurityOff(string key, string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([KeyValuePair.Create(key, (string?)value)]).Build();
        Assert.Throws<SiloConfigurationException>(() =>
            ListenerExposure.EnsureAllowed(ListenerExposure.HttpListeners(configuration, new AdminOptions()), securityEnabled: false));
    }

    // Finding 5: Kestrel listens on every address for such a URL, so the secure-defaults rule must not call it loopback.
    [Fact]
    public async Task Kestrel_BindsEveryAddress_ForAUrlWithUserInfoBeforALoopbackHost()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection([KeyValuePair.Create("Kestrel:Endpoints:Evil:Url", (string?)"http://anyone@127.0.0.1:0")]);
        await using var app = builder.Build();
        app.MapGet("/", () => "open");
        await app.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            string bound = Assert.Single(addresses);
            var host = new Uri(bound).Host.Trim('[', ']');
            Assert.True(IPAddress.TryParse(host, out var address), bound);
            Assert.False(IPAddress.IsLoopback(address), $"Kestrel bound {bound}");
            Assert.False(ListenerExposure.IsLoopbackUrl("http://anyone@127.0.0.1:0"), "the secure-defaults rule must not call that URL loopback");
        }
        finally
        {
            await app.StopAsync(TestContext.Current.CancellationToken);
        }
    }
}
