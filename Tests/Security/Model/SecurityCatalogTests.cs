using Granary.Grains.Security;
using Granary.Grains.Security.Stores;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Granary.Tests.Security.Model;

public sealed class SecurityCatalogTests : IDisposable
{
    private const string BootstrapKey = "bootstrap-key-of-at-least-thirty-two-chars";
    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _time = new();

    private SecurityCatalog Catalog(ISecurityStore store, params string[] superusers) =>
        new(store, Options.Create(new GranarySecurityOptions { Enabled = true, BootstrapKey = BootstrapKey, Superusers = superusers }), _time,
            NullLogger<SecurityCatalog>.Instance);

    private static async Task<string> AddKeyAsync(FileSecurityStore store, string principal)
    {
        var (id, text) = ApiKeys.Generate();
        await store.AddKeyAsync(new ApiKeyRecord(id, principal, ApiKeys.Hash(text), DateTimeOffset.UnixEpoch, "test", null, null));
        return text;
    }

    [Fact]
    public async Task AKeyRevokedInTheStore_StopsAuthenticating_OnTheNextRefreshTick()
    {
        using var store = new FileSecurityStore(_directory.Path);
        string key = await AddKeyAsync(store, "ops");
        using var catalog = Catalog(store);
        await catalog.StartAsync(CancellationToken.None);
        try
        {
            Assert.Equal(new Principal("ops", AuthenticationKind.ApiKey), catalog.AuthenticateApiKey(key));
            await store.RevokeKeyAsync(ApiKeys.TryGetId(key)!, _time.GetUtcNow());
            // Until the next tick the catalog answers from what it read (and cached).
            Assert.NotNull(catalog.AuthenticateApiKey(key));
            await Eventually.UntilAsync(() =>
            {
                _time.Advance(TimeSpan.FromSeconds(1));
                return catalog.AuthenticateApiKey(key) is null;
            });
        }
        finally { await catalog.StopAsync(CancellationToken.None); }
    }

    [Fact]
    public async Task RulesAddedInTheStore_ApplyAfterARefresh_AndDecisionsAreNotStale()
    {
        using var store = new FileSecurityStore(_directory.Path);
        using var catalog = Catalog(store);
        await catalog.RefreshAsync();
        var ops = new Principal("ops", AuthenticationKind.ApiKey);
        Assert.False(catalog.IsAllowed(ops, ResourceType.Topic, "orders", AclOperation.Produce));
        var rule = new AclRule(Guid.NewGuid(), "ops", ResourceType.Topic, "orders", AclPatternType.Exact, AclOperation.Produce, AclEffect.Allow, DateTimeOffset.UnixEpoch, "test");
        await store.AddRuleAsync(rule);
        await catalog.RefreshAsync();
        Assert.True(catalog.IsAllowed(ops, ResourceType.Topic, "orders", AclOperation.Produce));
        await store.RemoveRuleAsync(rule.Id);
        await catalog.RefreshAsync();
        Assert.False(catalog.IsAllowed(ops, ResourceType.Topic, "orders", AclOperation.Produce));
    }

    [Fact]
    public async Task UnknownMalformedOrWrongSecretKeys_AuthenticateNoOne_TheBootstrapKeyIsTheBootstrapSuperuser()
    {
        using var store = new FileSecurityStore(_directory.Path);
        string key = await AddKeyAsync(store, "ops");
        using var catalog = Catalog(store);
        await catalog.RefreshAsync();
        Assert.Null(catalog.AuthenticateApiKey(null));
        Assert.Null(catalog.AuthenticateApiKey("not a key"));
        Assert.Null(catalog.AuthenticateApiKey(ApiKeys.Generate().Text));
        Assert.Null(catalog.AuthenticateApiKey(key[..^2] + "xx"));
        Assert.Equal(Principal.Bootstrap, catalog.AuthenticateApiKey(BootstrapKey));
        Assert.True(catalog.IsAllowed(Principal.Bootstrap, ResourceType.Cluster, "*", AclOperation.Admin));
    }

    [Fact]
    public async Task AStoreThatCannotBeRead_LeavesOnlyTheBootstrapKeyAndSuperusers()
    {
        using var catalog = Catalog(new UnreadableStore(), "root");
        await catalog.RefreshAsync();
        Assert.Equal(SecuritySnapshot.Empty, catalog.Snapshot);
        Assert.Equal(Principal.Bootstrap, catalog.AuthenticateApiKey(BootstrapKey));
        Assert.True(catalog.IsAllowed(new Principal("root", AuthenticationKind.Certificate), ResourceType.Topic, "t", AclOperation.Delete));
        Assert.False(catalog.IsAllowed(new Principal("ops", AuthenticationKind.ApiKey), ResourceType.Topic, "t", AclOperation.Describe));
    }

    [Theory]
    [InlineData("short", 1)]
    [InlineData(null, 0)]
    [InlineData(null, 6)]
    public void OptionsValidation_RefusesAShortBootstrapKeyAndARefreshBeyondFiveSeconds(string? bootstrap, int refreshSeconds)
    {
        var options = new GranarySecurityOptions { BootstrapKey = bootstrap, RefreshInterval = TimeSpan.FromSeconds(refreshSeconds) };
        Assert.True(new GranarySecurityOptionsValidator().Validate(null, options).Failed);
    }

    public void Dispose() => _directory.Dispose();

    private sealed class UnreadableStore : ISecurityStore
    {
        public Task<SecuritySnapshot> LoadAsync(CancellationToken cancellationToken = default) => throw new IOException("unreadable");

        public Task<long> GetVersionAsync(CancellationToken cancellationToken = default) => throw new IOException("unreadable");

        public Task AddKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken = default) => throw new IOException("unreadable");

        public Task<bool> RevokeKeyAsync(string id, DateTimeOffset at, CancellationToken cancellationToken = default) => throw new IOException("unreadable");

        public Task AddRuleAsync(AclRule rule, CancellationToken cancellationToken = default) => throw new IOException("unreadable");

        public Task<bool> RemoveRuleAsync(Guid id, CancellationToken cancellationToken = default) => throw new IOException("unreadable");

        public Task AppendAuditAsync(AuditEvent audit, CancellationToken cancellationToken = default) => throw new IOException("unreadable");

        public Task<IReadOnlyList<AuditEvent>> ReadAuditAsync(DateTimeOffset? since, int limit, CancellationToken cancellationToken = default) => throw new IOException("unreadable");
    }
}
