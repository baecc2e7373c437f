using Granary.Client.Internal;
using Microsoft.Extensions.Hosting;

namespace Granary.Tests.Client;

/// <summary>TLS lives in Granary.Client.Tls, found by name; a client without it says so (issue 20, item 2).</summary>
public sealed class TlsPackageTests
{
    [Fact]
    public void TlsOn_WithoutTheTlsPackage_SaysWhichPackageToAdd()
    {
        var tls = new ClientTls("Granary.Client.Tls.Missing, Granary.Client.Tls.Missing");
        InvalidOperationException? failure = null;
        Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true }).UseOrleansClient(client =>
            failure = Record.Exception(() => tls.Apply(client, new GranaryClientTlsOptions { Enabled = true, AllowUntrustedServerCertificate = true })) as InvalidOperationException);

        Assert.NotNull(failure);
        Assert.Contains("needs the Granary.Client.Tls package", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TlsOff_NeedsNoTlsPackage()
    {
        var tls = new ClientTls("Granary.Client.Tls.Missing, Granary.Client.Tls.Missing");
        Exception? failure = new InvalidOperationException("not run");
        Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true }).UseOrleansClient(client =>
            failure = Record.Exception(() => tls.Apply(client, new GranaryClientTlsOptions())));

        Assert.Null(failure);
    }

    [Fact]
    public void TlsOn_WithTheTlsPackage_IsApplied()
    {
        var tls = new ClientTls();
        Exception? failure = new InvalidOperationException("not run");
        Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true }).UseOrleansClient(client =>
            failure = Record.Exception(() => tls.Apply(client, new GranaryClientTlsOptions { Enabled = true, AllowUntrustedServerCertificate = true })));

        Assert.Null(failure);
    }
}
