using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Granary.Tests.Admin;

/// <summary>With security off the admin API is as before: anonymous, everything allowed, keys and rules can be prepared.</summary>
public sealed class AdminWithSecurityOffTests(AdminWithSecurityOffTests.Silo silo) : IClassFixture<AdminWithSecurityOffTests.Silo>
{
    public sealed class Silo() : AdminSilo();

    [Fact]
    public async Task EveryoneIsAnonymous_AndMayDoEverything()
    {
        var me = JsonNode.Parse(await silo.Http.GetStringAsync("api/v1/whoami?topic=t"))!;
        Assert.Equal(("anonymous", "Anonymous", false, true, true), ((string)me["principal"]!, (string)me["kind"]!, (bool)me["securityEnabled"]!, (bool)me["canAdmin"]!, (bool)me["canDescribeCluster"]!));
        Assert.Equal(6, me["topics"]!["t"]!.AsArray().Count);
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("api/v1/cluster")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("api/v1/acls")).StatusCode);
        using var created = await silo.Http.PostAsJsonAsync("api/v1/keys", new { principal = "prepared" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var audit = JsonNode.Parse(await silo.Http.GetStringAsync("api/v1/audit"))!.AsArray();
        Assert.Contains(audit, e => (string)e!["action"]! == "key.create" && (string)e["principal"]! == "anonymous");
    }
}
