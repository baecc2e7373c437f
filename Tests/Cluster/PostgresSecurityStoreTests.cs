using Granary.Grains.Security;
using Granary.Grains.Security.Stores;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Granary.Tests.Cluster;

/// <summary>The PostgreSQL security store: what one silo writes, every other silo reads, and the version tells them when.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresSecurityStoreTests(PostgresFixture postgres)
{
    [Fact]
    public async Task KeysRulesAndAudit_WrittenThroughOneStore_AreReadThroughAnother_WithTheVersionMovingOnEachChange()
    {
        string database = await postgres.CreateDatabaseAsync();
        using var a = new PostgresSecurityStore(database);
        using var b = new PostgresSecurityStore(database);
        long start = await b.GetVersionAsync();
        var (id, text) = ApiKeys.Generate();
        await a.AddKeyAsync(new ApiKeyRecord(id, "ops", ApiKeys.Hash(text), DateTimeOffset.UnixEpoch, "bootstrap", "orders service", null));
        var rule = new AclRule(Guid.NewGuid(), "ops", ResourceType.Group, "orders/", AclPatternType.Prefix, AclOperation.Consume, AclEffect.Deny,
            DateTimeOffset.UnixEpoch, "bootstrap");
        await a.AddRuleAsync(rule);
        Assert.Equal(start + 2, await b.GetVersionAsync());

        var snapshot = await b.LoadAsync();
        Assert.Equal(start + 2, snapshot.Version);
        var key = Assert.Single(snapshot.Keys);
        Assert.Equal(("ops", "orders service", (DateTimeOffset?)null), (key.Principal, key.Description, key.Revoked));
        Assert.True(ApiKeys.Matches(key, text));
        Assert.Equal(rule, Assert.Single(snapshot.Rules));

        Assert.True(await b.RevokeKeyAsync(id, DateTimeOffset.UnixEpoch.AddHours(1)));
        Assert.False(await a.RevokeKeyAsync(id, DateTimeOffset.UnixEpoch.AddHours(2)));
        Assert.True(await a.RemoveRuleAsync(rule.Id));
        Assert.False(await b.RemoveRuleAsync(rule.Id));
        var after = await a.LoadAsync();
        Assert.Equal(start + 4, after.Version);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddHours(1), Assert.Single(after.Keys).Revoked);
        Assert.Empty(after.Rules);

        var time = DateTimeOffset.UtcNow;
        await a.AppendAuditAsync(new AuditEvent(time, "bootstrap", "key.create", id, "principal=ops", "silo-a"));
        await b.AppendAuditAsync(new AuditEvent(time.AddSeconds(1), "ops", "topic.delete", "orders", null, "silo-b"));
        var audit = await a.ReadAuditAsync(null, 10);
        Assert.Equal(["topic.delete", "key.create"], audit.Select(e => e.Action));
        Assert.Equal("silo-b", audit[0].Silo);
        Assert.Single(await b.ReadAuditAsync(time.AddMilliseconds(500), 10));
    }

    [Fact]
    public async Task ARevocationThroughOneSilosStore_ReachesAnotherSilosCatalog_OnItsNextRefresh()
    {
        string database = await postgres.CreateDatabaseAsync();
        using var writer = new PostgresSecurityStore(database);
        using var reader = new PostgresSecurityStore(database);
        var (id, text) = ApiKeys.Generate();
        await writer.AddKeyAsync(new ApiKeyRecord(id, "ops", ApiKeys.Hash(text), DateTimeOffset.UnixEpoch, "bootstrap", null, null));
        using var catalog = new SecurityCatalog(reader, Options.Create(new GranarySecurityOptions { Enabled = true }), TimeProvider.System,
            NullLogger<SecurityCatalog>.Instance);
        await catalog.RefreshAsync();
        Assert.Equal("ops", catalog.AuthenticateApiKey(text)?.Name);
        await writer.RevokeKeyAsync(id, DateTimeOffset.UtcNow);
        await catalog.RefreshAsync();
        Assert.Null(catalog.AuthenticateApiKey(text));
    }
}
