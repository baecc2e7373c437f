using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Granary.Tests.Admin;

/// <summary>
/// A silo with <c>Granary:Security:Enabled</c> and a bootstrap key: its admin API takes API keys, and
/// <see cref="AdminSilo.Http"/> (no key) is refused. Helpers make keys and rules with the bootstrap key.
/// </summary>
public class SecureAdminSilo(params string[] settings)
    : AdminSilo(["--Granary:Security:Enabled=true", $"--Granary:Security:BootstrapKey={BootstrapKey}", .. settings])
{
    /// <summary>The bootstrap key (at least 32 characters): the superuser <c>bootstrap</c>.</summary>
    public const string BootstrapKey = "bootstrap-key-for-tests-0123456789abcdef";

    /// <summary>A principal name no other test uses.</summary>
    public static string UniquePrincipal(string prefix = "p") => $"{prefix}-{Guid.NewGuid():N}"[..20];

    /// <summary>An HTTP client for the admin API that sends <paramref name="key"/> as <c>X-Api-Key</c>.</summary>
    public HttpClient As(string key)
    {
        var http = new HttpClient { BaseAddress = Silo.AdminUrl, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Add("X-Api-Key", key);
        return http;
    }

    /// <summary>An SDK client that calls as the bootstrap principal.</summary>
    public Task<GranaryClient> ConnectAsBootstrapAsync()
    {
        var options = Silo.ClientOptions();
        options.ApiKey = BootstrapKey;
        return GranaryClient.ConnectAsync(options);
    }

    /// <summary>Makes an API key for <paramref name="principal"/> with the bootstrap key; returns its id and text.</summary>
    public async Task<(string Id, string Key)> CreateKeyAsync(string principal)
    {
        using var bootstrap = As(BootstrapKey);
        using var response = await bootstrap.PostAsJsonAsync("api/v1/keys", new { principal, description = "test" });
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True(response.StatusCode == HttpStatusCode.Created, body.ToJsonString());
        return ((string)body["id"]!, (string)body["key"]!);
    }

    /// <summary>Adds a rule with the bootstrap key; returns its id.</summary>
    public async Task<string> AddRuleAsync(string principal, string resourceType, string? name, string operation, string patternType = "Exact", string effect = "Allow")
    {
        using var bootstrap = As(BootstrapKey);
        using var response = await bootstrap.PostAsJsonAsync("api/v1/acls", new { principal, resourceType, name, patternType, operation, effect });
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True(response.StatusCode == HttpStatusCode.Created, body.ToJsonString());
        return (string)body["id"]!;
    }
}
