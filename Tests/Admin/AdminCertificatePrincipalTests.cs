using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Granary.Tests.Admin;

/// <summary>
/// With security on and client certificates on the admin API's https URL, a client certificate the TLS layer accepted
/// authenticates as the principal its subject's common name names (the test CA's client is <c>granary-client</c>).
/// </summary>
public sealed class AdminCertificatePrincipalTests(AdminCertificatePrincipalTests.Silo silo) : IClassFixture<AdminCertificatePrincipalTests.Silo>
{
    private const string CertificatePrincipal = "granary-client";

    public sealed class Silo() : AdminClientCertificateTests.MutualTlsSilo(
        ["--Granary:Security:Enabled=true", $"--Granary:Security:BootstrapKey={SecureAdminSilo.BootstrapKey}"]);

    [Fact]
    public async Task TheCertificatesCommonName_IsThePrincipal_AndRulesApplyToIt()
    {
        using var http = silo.Client(silo.Ca);
        var me = JsonNode.Parse(await http.GetStringAsync("api/v1/whoami"))!;
        Assert.Equal((CertificatePrincipal, "Certificate", false), ((string)me["principal"]!, (string)me["kind"]!, (bool)me["canAdmin"]!));
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("api/v1/keys")).StatusCode);

        // An API key sent over the same connection speaks for itself instead.
        using var bootstrap = silo.Client(silo.Ca);
        bootstrap.DefaultRequestHeaders.Add("X-Api-Key", SecureAdminSilo.BootstrapKey);
        Assert.Equal("bootstrap", (string?)JsonNode.Parse(await bootstrap.GetStringAsync("api/v1/whoami"))!["principal"]);
        using var granted = await bootstrap.PostAsJsonAsync("api/v1/acls", new { principal = CertificatePrincipal, resourceType = "Cluster", operation = "Admin" });
        Assert.Equal(HttpStatusCode.Created, granted.StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/v1/keys")).StatusCode);
        var audit = JsonNode.Parse(await http.GetStringAsync("api/v1/audit"))!.AsArray();
        Assert.Contains(audit, e => (string)e!["action"]! == "acl.grant" && ((string?)e["detail"])!.Contains(CertificatePrincipal, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheCli_SignsInWithItsCertificate()
    {
        var whoami = await Cli.CliTests.Run(silo.Url, "whoami", "--ca", silo.Ca.CaPath, "--cert", silo.Ca.ClientCertificatePath, "--key", silo.Ca.ClientKeyPath);
        Assert.True(whoami.Code == Granary.Cli.ExitCodes.Ok, whoami.Error);
        Assert.Matches($@"(?m)^Principal:\s+{CertificatePrincipal}$", whoami.Output);
        Assert.Matches(@"(?m)^Authenticated by:\s+Certificate$", whoami.Output);
    }
}
