using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Granary.Tests.Admin;

/// <summary>
/// With security on, the admin API authenticates every request as a principal (API key or bootstrap key) and checks
/// the endpoints that call no grain (keys, rules, audit, whoami, cluster, damage, metrics) against the rules.
/// </summary>
public sealed class AdminPrincipalTests(AdminPrincipalTests.Silo silo) : IClassFixture<AdminPrincipalTests.Silo>
{
    public sealed class Silo() : SecureAdminSilo();

    [Theory]
    [InlineData(null)]
    [InlineData("gk_0123456789abcdef_not-a-real-secret-at-all-000000000000000")]
    [InlineData("some-other-text")]
    public async Task WithoutAnAcceptedCredential_TheApiAndMetricsAnswer401_WithAChallenge_AndNeverEchoTheSecret(string? key)
    {
        foreach (string path in new[] { "api/v1/topics", "api/v1/whoami", "api/v1/keys", "metrics", "openapi/v1.json" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (key is not null) request.Headers.Add("X-Api-Key", key);
            using var response = await silo.Http.SendAsync(request);
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{path}: {response.StatusCode} {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("X-Api-Key", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
            if (key is not null) Assert.DoesNotContain(key, body, StringComparison.Ordinal);
        }
        // As a bearer token too.
        using var bearer = new HttpRequestMessage(HttpMethod.Get, "api/v1/topics");
        bearer.Headers.Authorization = new("Bearer", "gk_0123456789abcdef_wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await silo.Http.SendAsync(bearer)).StatusCode);
    }

    [Fact]
    public async Task HealthProbesAndTheConsolePage_StayOpen()
    {
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("health/ready")).StatusCode);
        using var page = await silo.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("api.js")).StatusCode);
    }

    [Fact]
    public async Task TheOpenApiDocument_ListsTheSecurityEndpoints()
    {
        using var bootstrap = silo.As(SecureAdminSilo.BootstrapKey);
        var paths = JsonNode.Parse(await bootstrap.GetStringAsync("openapi/v1.json"))!["paths"]!.AsObject();
        foreach (string path in new[] { "/api/v1/keys", "/api/v1/keys/{id}", "/api/v1/acls", "/api/v1/acls/{id}", "/api/v1/audit", "/api/v1/whoami" })
            Assert.True(paths.ContainsKey(path), $"{path} is not in the OpenAPI document");
    }

    [Fact]
    public async Task TheBootstrapKey_IsASuperuser_AsKeyOrBearerToken()
    {
        using var bootstrap = silo.As(SecureAdminSilo.BootstrapKey);
        var me = await GetJsonAsync(bootstrap, "api/v1/whoami");
        Assert.Equal(("bootstrap", "Bootstrap", true, true, true), ((string)me["principal"]!, (string)me["kind"]!, (bool)me["securityEnabled"]!, (bool)me["superuser"]!, (bool)me["canAdmin"]!));
        Assert.Equal(HttpStatusCode.OK, (await bootstrap.GetAsync("api/v1/cluster")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await bootstrap.GetAsync("metrics")).StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/keys");
        request.Headers.Authorization = new("Bearer", SecureAdminSilo.BootstrapKey);
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task AKeyOfAPrincipalWithoutRules_AuthenticatesButMayNotAdministerOrDescribeTheCluster()
    {
        string ops = SecureAdminSilo.UniquePrincipal("ops");
        var (_, key) = await silo.CreateKeyAsync(ops);
        using var http = silo.As(key);

        var me = await GetJsonAsync(http, "api/v1/whoami");
        Assert.Equal((ops, "ApiKey", false, false, false, false), ((string)me["principal"]!, (string)me["kind"]!, (bool)me["superuser"]!,
            (bool)me["canAdmin"]!, (bool)me["canDescribeCluster"]!, (bool)me["canCreateTopics"]!));

        foreach (var (method, path, body) in new (HttpMethod, string, object?)[]
        {
            (HttpMethod.Get, "api/v1/keys", null), (HttpMethod.Post, "api/v1/keys", new { principal = "mallory" }),
            (HttpMethod.Delete, "api/v1/keys/0123456789abcdef", null), (HttpMethod.Get, "api/v1/acls", null),
            (HttpMethod.Post, "api/v1/acls", new { principal = ops, resourceType = "Cluster", operation = "Admin" }),
            (HttpMethod.Delete, $"api/v1/acls/{Guid.NewGuid()}", null), (HttpMethod.Get, "api/v1/audit", null),
            (HttpMethod.Get, "api/v1/cluster", null), (HttpMethod.Get, "api/v1/damage", null), (HttpMethod.Get, "metrics", null),
        })
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            using var response = await http.SendAsync(request);
            string text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{method} {path}: {response.StatusCode} {text}");
            Assert.Contains(ops, text, StringComparison.Ordinal);
        }
        // Nothing was made by the refused requests.
        using var bootstrap = silo.As(SecureAdminSilo.BootstrapKey);
        Assert.DoesNotContain("mallory", await bootstrap.GetStringAsync("api/v1/keys"), StringComparison.Ordinal);
        Assert.DoesNotContain($"\"{ops}\"", await bootstrap.GetStringAsync("api/v1/acls"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rules_GiveAPrincipalTheClusterAndAdministration_AndRemovingThemTakesItBack()
    {
        string ops = SecureAdminSilo.UniquePrincipal("ops");
        var (_, key) = await silo.CreateKeyAsync(ops);
        using var http = silo.As(key);

        string describe = await silo.AddRuleAsync(ops, "Cluster", null, "Describe");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/v1/cluster")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/v1/damage")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("api/v1/keys")).StatusCode);

        string admin = await silo.AddRuleAsync(ops, "Cluster", "*", "Admin");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/v1/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/v1/audit")).StatusCode);
        var me = await GetJsonAsync(http, "api/v1/whoami");
        Assert.True((bool)me["canAdmin"]! && (bool)me["canDescribeCluster"]!);

        // A deny wins over the allow.
        string deny = await silo.AddRuleAsync(ops, "Cluster", "*", "All", effect: "Deny");
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("api/v1/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("api/v1/cluster")).StatusCode);

        using var bootstrap = silo.As(SecureAdminSilo.BootstrapKey);
        foreach (string id in new[] { deny, admin })
            Assert.Equal(HttpStatusCode.NoContent, (await bootstrap.DeleteAsync($"api/v1/acls/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/v1/cluster")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("api/v1/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await bootstrap.DeleteAsync($"api/v1/acls/{describe}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("api/v1/cluster")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bootstrap.DeleteAsync($"api/v1/acls/{describe}")).StatusCode);
    }

    [Fact]
    public async Task TheKeyList_NeverHoldsASecretOrHash_AndARevokedKeyIsRefused()
    {
        string ops = SecureAdminSilo.UniquePrincipal("ops");
        var (id, key) = await silo.CreateKeyAsync(ops);
        Assert.StartsWith($"gk_{id}_", key, StringComparison.Ordinal);
        using var http = silo.As(key);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/v1/whoami")).StatusCode);

        using var bootstrap = silo.As(SecureAdminSilo.BootstrapKey);
        string list = await bootstrap.GetStringAsync("api/v1/keys");
        var listed = Assert.Single(JsonNode.Parse(list)!.AsArray(), k => (string)k!["id"]! == id)!;
        Assert.Equal((ops, "bootstrap", "test"), ((string)listed["principal"]!, (string)listed["createdBy"]!, (string)listed["description"]!));
        Assert.Null(listed["revoked"]);
        Assert.DoesNotContain(key, list, StringComparison.Ordinal);
        Assert.DoesNotContain(key[(4 + id.Length)..], list, StringComparison.Ordinal);
        Assert.DoesNotContain("hash", list, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secret", list, StringComparison.OrdinalIgnoreCase);

        Assert.Equal(HttpStatusCode.NoContent, (await bootstrap.DeleteAsync($"api/v1/keys/{id}")).StatusCode);
        using var refused = await http.GetAsync("api/v1/whoami");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.DoesNotContain(key, await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var revoked = JsonNode.Parse(await bootstrap.GetStringAsync("api/v1/keys"))!.AsArray().Single(k => (string)k!["id"]! == id)!;
        Assert.NotNull(revoked["revoked"]);
        // Revoked already, or never made: 404.
        Assert.Equal(HttpStatusCode.NotFound, (await bootstrap.DeleteAsync($"api/v1/keys/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bootstrap.DeleteAsync("api/v1/keys/0000000000000000")).StatusCode);
    }

    [Fact]
    public async Task TheAuditLog_ListsKeyAndRuleChanges_WithWhoMadeThem_NewestFirst()
    {
        string ops = SecureAdminSilo.UniquePrincipal("ops");
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var (id, _) = await silo.CreateKeyAsync(ops);
        string rule = await silo.AddRuleAsync(ops, "Topic", "a.", "Describe", patternType: "Prefix");
        using var bootstrap = silo.As(SecureAdminSilo.BootstrapKey);
        Assert.Equal(HttpStatusCode.NoContent, (await bootstrap.DeleteAsync($"api/v1/keys/{id}")).StatusCode);

        var events = JsonNode.Parse(await bootstrap.GetStringAsync($"api/v1/audit?since={Uri.EscapeDataString(before.ToString("O"))}&limit=1000"))!.AsArray();
        var mine = events.Where(e => (string)e!["target"]! == id || (string)e!["target"]! == rule).ToList();
        Assert.Equal(new[] { "key.revoke", "acl.grant", "key.create" }, mine.Select(e => (string)e!["action"]!));
        Assert.All(mine, e => Assert.Equal("bootstrap", (string)e!["principal"]!));
        Assert.Contains($"principal={ops}", (string)mine[2]!["detail"]!, StringComparison.Ordinal);
        Assert.Contains($"allow {ops} describe on topic prefix a.", (string)mine[1]!["detail"]!, StringComparison.Ordinal);

        var one = JsonNode.Parse(await bootstrap.GetStringAsync("api/v1/audit?limit=1"))!.AsArray();
        Assert.Single(one);
        Assert.Empty(JsonNode.Parse(await bootstrap.GetStringAsync($"api/v1/audit?since={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O"))}"))!.AsArray());
    }

    [Fact]
    public async Task WhoAmI_SaysWhatThePrincipalMayDo_ToTheTopicsAndGroupsAskedAbout()
    {
        string ops = SecureAdminSilo.UniquePrincipal("ops");
        var (_, key) = await silo.CreateKeyAsync(ops);
        await silo.AddRuleAsync(ops, "Topic", "a.", "Describe", patternType: "Prefix");
        await silo.AddRuleAsync(ops, "Topic", "a.orders", "Produce");
        await silo.AddRuleAsync(ops, "Group", "a.orders/billing", "Alter");
        await silo.AddRuleAsync(ops, "Topic", "new.", "Create", patternType: "Prefix");
        using var http = silo.As(key);

        var me = await GetJsonAsync(http, "api/v1/whoami?topic=a.orders&topic=a.other&topic=b.orders&group=a.orders/billing&group=a.orders/other");
        Assert.True((bool)me["canCreateTopics"]!);
        Assert.Equal(new[] { "describe", "produce" }, Operations(me["topics"]!["a.orders"]));
        Assert.Equal(new[] { "describe" }, Operations(me["topics"]!["a.other"]));
        Assert.Empty(Operations(me["topics"]!["b.orders"]));
        Assert.Equal(new[] { "describe", "alter" }, Operations(me["groups"]!["a.orders/billing"]));
        Assert.Empty(Operations(me["groups"]!["a.orders/other"]));
    }

    [Theory]
    [InlineData("""{"principal":"bad name","resourceType":"Topic","name":"t","operation":"Produce"}""", "not a valid principal")]
    [InlineData("""{"principal":"ops","resourceType":"Topic","name":"t","operation":"Fly"}""", "")]
    [InlineData("""{"principal":"ops","resourceType":"Topic","operation":"Produce"}""", "needs 'name'")]
    [InlineData("""{"principal":"ops","resourceType":"Cluster","name":"c1","operation":"Admin"}""", "cluster")]
    [InlineData("""{"principal":"ops","resourceType":"Topic","name":"t","operation":"Produce","extra":1}""", "extra")]
    public async Task ABadRule_Is400_WithTheReason(string body, string reason)
    {
        using var bootstrap = silo.As(SecureAdminSilo.BootstrapKey);
        using var response = await bootstrap.PostAsync("api/v1/acls", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        Assert.Contains(reason, (string)JsonNode.Parse(text)!["detail"]!, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"principal":"bad name"}""")]
    [InlineData("""{"principal":"bootstrap"}""")]
    [InlineData("""{"description":"no principal"}""")]
    public async Task ABadKeyRequest_Is400(string body)
    {
        using var bootstrap = silo.As(SecureAdminSilo.BootstrapKey);
        using var response = await bootstrap.PostAsync("api/v1/keys", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("api/v1/audit?limit=0")]
    [InlineData("api/v1/audit?limit=1001")]
    [InlineData("api/v1/audit?since=yesterday")]
    public async Task ABadAuditQuery_Is400(string path)
    {
        using var bootstrap = silo.As(SecureAdminSilo.BootstrapKey);
        Assert.Equal(HttpStatusCode.BadRequest, (await bootstrap.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task RemovingAnUnknownRule_Is404()
    {
        using var bootstrap = silo.As(SecureAdminSilo.BootstrapKey);
        Assert.Equal(HttpStatusCode.NotFound, (await bootstrap.DeleteAsync($"api/v1/acls/{Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bootstrap.DeleteAsync("api/v1/acls/not-a-rule-id")).StatusCode);
    }

    [Fact]
    public async Task GroupListings_LeaveOutTheGroupsThePrincipalMayNotDescribe()
    {
        string ops = SecureAdminSilo.UniquePrincipal("ops");
        var (_, key) = await silo.CreateKeyAsync(ops);
        string topic = BrokerClusterFixture.UniqueTopic("gl");
        await silo.AddRuleAsync(ops, "Topic", topic, "Describe");
        await silo.AddRuleAsync(ops, "Group", $"{topic}/visible", "Describe");
        await using (var client = await silo.ConnectAsBootstrapAsync())
        {
            await client.Admin.CreateTopicAsync(topic);
            await using (var producer = client.CreateProducer(topic)) await producer.SendAsync(new OutgoingMessage(new byte[] { 1 }));
            foreach (string group in new[] { "visible", "hidden" })
            {
                await using var consumer = client.CreateConsumer(topic, group, new ConsumerOptions { AckTimeout = ClientTestExtensions.NoExpiry, PollWait = TimeSpan.FromMilliseconds(200) });
                await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync());
            }
        }

        using var http = silo.As(key);
        foreach (string path in new[] { "api/v1/groups", $"api/v1/topics/{topic}/groups" })
        {
            var groups = JsonNode.Parse(await http.GetStringAsync(path))!.AsArray().Where(g => (string)g!["topic"]! == topic).Select(g => (string)g!["group"]!);
            Assert.Equal(new[] { "visible" }, groups);
        }
        using var bootstrap = silo.As(SecureAdminSilo.BootstrapKey);
        var all = JsonNode.Parse(await bootstrap.GetStringAsync($"api/v1/topics/{topic}/groups"))!.AsArray().Select(g => (string)g!["group"]!).Order();
        Assert.Equal(new[] { "hidden", "visible" }, all);
    }

    private static string[] Operations(JsonNode? node) => [.. node!.AsArray().Select(o => (string)o!)];

    private static async Task<JsonNode> GetJsonAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }
}
