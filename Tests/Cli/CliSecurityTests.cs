using System.Text.Json.Nodes;
using Granary.Cli;
using Granary.Tests.Admin;

namespace Granary.Tests.Cli;

/// <summary><c>granary keys|acls|audit|whoami</c> against a silo with security on, and how the CLI reports a refusal.</summary>
public sealed class CliSecurityTests(CliSecurityTests.Silo silo) : IClassFixture<CliSecurityTests.Silo>
{
    public sealed class Silo() : SecureAdminSilo();

    private const string Bootstrap = SecureAdminSilo.BootstrapKey;

    [Fact]
    public async Task Keys_AreCreatedListedAndRevoked_AndTheKeyIsPrintedOnce()
    {
        string ops = SecureAdminSilo.UniquePrincipal("ops");
        var created = await RunAsync("keys", "create", "--principal", ops, "--description", "nightly job", "--api-key", Bootstrap);
        Assert.Equal(ExitCodes.Ok, created.Code);
        string key = created.Output.Trim();
        Assert.Matches("^gk_[0-9a-f]{16}_[A-Za-z0-9_-]+$", key);
        Assert.Contains("only time it is shown", created.Error, StringComparison.Ordinal);
        string id = key[3..19];

        var whoami = await RunAsync("whoami", "--api-key", key);
        Assert.Equal(ExitCodes.Ok, whoami.Code);
        Assert.Matches($@"(?m)^Principal:\s+{ops}$", whoami.Output);
        Assert.Matches(@"(?m)^Authenticated by:\s+ApiKey$", whoami.Output);
        Assert.Matches(@"(?m)^Administer:\s+no$", whoami.Output);

        var list = await RunAsync("keys", "list", "--api-key", Bootstrap);
        Assert.Equal(ExitCodes.Ok, list.Code);
        Assert.Matches($@"(?m)^{id}\s+{ops}\s+\S+ \S+\s+bootstrap\s+-\s+nightly job$", list.Output);
        Assert.DoesNotContain(key, list.Output, StringComparison.Ordinal);

        Assert.Equal((ExitCodes.Ok, $"Revoked API key {id}."), Trimmed(await RunAsync("keys", "revoke", id, "--api-key", Bootstrap)));
        var refused = await RunAsync("whoami", "--api-key", key);
        Assert.Equal(ExitCodes.Unauthorized, refused.Code);
        Assert.Contains("--api-key or GRANARY_API_KEY", refused.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(key, refused.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("keys", "revoke", id, "--api-key", Bootstrap)).Code);
    }

    [Fact]
    public async Task Acls_AreGrantedListedAndRemoved_AndGiveTheirPrincipalWhatTheySay()
    {
        string ops = SecureAdminSilo.UniquePrincipal("ops");
        string key = (await RunAsync("keys", "create", "--principal", ops, "--api-key", Bootstrap)).Output.Trim();
        var refused = await RunAsync("acls", "list", "--api-key", key);
        Assert.Equal(ExitCodes.Forbidden, refused.Code);
        Assert.Contains($"Principal '{ops}' may not do this: it needs Admin on the cluster", refused.Error, StringComparison.Ordinal);
        Assert.Contains("granary acls grant", refused.Error, StringComparison.Ordinal);

        var granted = await RunAsync("acls", "grant", "--principal", ops, "--cluster", "--operation", "admin", "--api-key", Bootstrap);
        Assert.Equal(ExitCodes.Ok, granted.Code);
        Assert.Matches($@"^Added rule (\S+): allow {ops} admin on cluster \*\.$", granted.Output.Trim());
        string rule = granted.Output.Trim()["Added rule ".Length..].Split(':')[0];
        var denied = await RunAsync("acls", "deny", "--principal", ops, "--topic", "secret.", "--prefix", "--operation", "Consume", "--api-key", key);
        Assert.Equal(ExitCodes.Ok, denied.Code);
        Assert.Contains($"deny {ops} consume on topic prefix secret.", denied.Output, StringComparison.Ordinal);
        var group = await RunAsync("acls", "grant", "--principal", ops, "--group", "orders/billing", "--operation", "alter", "--api-key", key);
        Assert.Equal(ExitCodes.Ok, group.Code);

        var list = await RunAsync("acls", "list", "--api-key", key);
        Assert.Equal(ExitCodes.Ok, list.Code);
        Assert.Matches($@"(?m)^{rule}\s+allow\s+{ops}\s+admin\s+cluster\s+\*\s+exact\s+bootstrap$", list.Output);
        Assert.Matches($@"(?m)^\S+\s+deny\s+{ops}\s+consume\s+topic\s+secret\.\s+prefix\s+{ops}$", list.Output);
        Assert.Matches($@"(?m)^\S+\s+allow\s+{ops}\s+alter\s+group\s+orders/billing\s+exact\s+{ops}$", list.Output);

        var audit = await RunAsync("audit", "--since", "10m", "--limit", "1000", "--api-key", key);
        Assert.Equal(ExitCodes.Ok, audit.Code);
        Assert.Matches($@"(?m)^\S+ \S+\s+{ops}\s+acl\.deny\s+\S+\s+deny {ops} consume on topic prefix secret\.", audit.Output);

        Assert.Equal((ExitCodes.Ok, $"Removed rule {rule}."), Trimmed(await RunAsync("acls", "remove", rule, "--api-key", Bootstrap)));
        Assert.Equal(ExitCodes.Forbidden, (await RunAsync("acls", "list", "--api-key", key)).Code);
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("acls", "remove", rule, "--api-key", Bootstrap)).Code);
    }

    [Fact]
    public async Task TheKey_ComesFromGranaryApiKey_WhenNoOptionGivesIt()
    {
        // RunAsync gives no --api-key here: the environment variable is read when the option has no value.
        string? before = Environment.GetEnvironmentVariable("GRANARY_API_KEY");
        Environment.SetEnvironmentVariable("GRANARY_API_KEY", Bootstrap);
        try
        {
            var whoami = await RunAsync("whoami", "--json");
            Assert.Equal(ExitCodes.Ok, whoami.Code);
            Assert.Equal("bootstrap", (string?)JsonNode.Parse(whoami.Output)!["principal"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable("GRANARY_API_KEY", before);
        }
    }

    [Theory]
    [InlineData(ExitCodes.Unauthorized, "keys", "list")]
    [InlineData(ExitCodes.Unauthorized, "topics", "list")]
    [InlineData(ExitCodes.Unauthorized, "keys", "list", "--api-key", "gk_0123456789abcdef_wrong")]
    [InlineData(ExitCodes.Usage, "acls", "grant", "--principal", "p", "--operation", "produce", "--api-key", Bootstrap)]
    [InlineData(ExitCodes.Usage, "acls", "grant", "--principal", "p", "--topic", "t", "--cluster", "--operation", "produce", "--api-key", Bootstrap)]
    [InlineData(ExitCodes.Usage, "acls", "grant", "--principal", "p", "--topic", "t", "--operation", "fly", "--api-key", Bootstrap)]
    [InlineData(ExitCodes.Usage, "acls", "grant", "--principal", "p", "--cluster", "--prefix", "--operation", "admin", "--api-key", Bootstrap)]
    [InlineData(ExitCodes.Usage, "audit", "--since", "whenever", "--api-key", Bootstrap)]
    [InlineData(ExitCodes.Usage, "keys", "create", "--api-key", Bootstrap)]
    [InlineData(ExitCodes.InvalidArgument, "keys", "create", "--principal", "bad name", "--api-key", Bootstrap)]
    [InlineData(ExitCodes.InvalidArgument, "acls", "grant", "--principal", "bad name", "--topic", "t", "--operation", "produce", "--api-key", Bootstrap)]
    [InlineData(ExitCodes.InvalidArgument, "audit", "--limit", "0", "--api-key", Bootstrap)]
    [InlineData(ExitCodes.NotFound, "keys", "revoke", "0000000000000000", "--api-key", Bootstrap)]
    public async Task Failures_ExitWithACodeThatSaysWhatFailed(int expected, params string[] args)
    {
        string? before = Environment.GetEnvironmentVariable("GRANARY_API_KEY");
        Environment.SetEnvironmentVariable("GRANARY_API_KEY", null);
        try
        {
            var result = await RunAsync(args);
            Assert.True(expected == result.Code, $"exit {result.Code}: {result.Error}");
            Assert.StartsWith("granary: ", result.Error, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("GRANARY_API_KEY", before);
        }
    }

    private static (int, string) Trimmed(CliTests.CliResult result) => (result.Code, result.Output.Trim());

    private Task<CliTests.CliResult> RunAsync(params string[] args) => CliTests.Run(silo.Silo.AdminUrl, args);
}
