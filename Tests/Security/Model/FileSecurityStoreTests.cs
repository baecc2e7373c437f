using Granary.Grains.Hosting.StateFiles;
using Granary.Grains.Security;
using Granary.Grains.Security.Stores;
using Microsoft.Extensions.Logging.Abstractions;

namespace Granary.Tests.Security.Model;

public sealed class FileSecurityStoreTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private static AclRule Rule(string principal) =>
        new(Guid.NewGuid(), principal, ResourceType.Topic, "orders.", AclPatternType.Prefix, AclOperation.Produce, AclEffect.Allow, DateTimeOffset.UnixEpoch, "test");

    private static ApiKeyRecord Key(string principal)
    {
        var (id, text) = ApiKeys.Generate();
        return new ApiKeyRecord(id, principal, ApiKeys.Hash(text), DateTimeOffset.UnixEpoch, "test", "for tests", null);
    }

    [Fact]
    public async Task KeysAndRules_SurviveReopening_AndEveryChangeRaisesTheVersion()
    {
        var key = Key("ops");
        var rule = Rule("ops");
        var removed = Rule("other");
        using (var store = new FileSecurityStore(_directory.Path))
        {
            Assert.Equal(0, await store.GetVersionAsync());
            await store.AddKeyAsync(key);
            await store.AddRuleAsync(rule);
            await store.AddRuleAsync(removed);
            Assert.True(await store.RemoveRuleAsync(removed.Id));
            Assert.False(await store.RemoveRuleAsync(removed.Id));
            Assert.Equal(4, await store.GetVersionAsync());
        }
        using (var reopened = new FileSecurityStore(_directory.Path))
        {
            var snapshot = await reopened.LoadAsync();
            Assert.Equal(4, snapshot.Version);
            var stored = Assert.Single(snapshot.Keys);
            Assert.Equal(key.Id, stored.Id);
            Assert.Equal(key.SecretHash, stored.SecretHash);
            Assert.Equal(rule, Assert.Single(snapshot.Rules));
            Assert.True(await reopened.RevokeKeyAsync(key.Id, DateTimeOffset.UnixEpoch.AddDays(1)));
            Assert.False(await reopened.RevokeKeyAsync(key.Id, DateTimeOffset.UnixEpoch.AddDays(2)));
            Assert.False(await reopened.RevokeKeyAsync("0000000000000000", DateTimeOffset.UnixEpoch));
            Assert.Equal(DateTimeOffset.UnixEpoch.AddDays(1), Assert.Single((await reopened.LoadAsync()).Keys).Revoked);
        }
        // The secret itself is nowhere on disk, only its hash.
        foreach (var file in Directory.GetFiles(_directory.Path))
            Assert.DoesNotContain("gk_", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADamagedFile_FallsBackToItsPreviousCopy_AndIsReported()
    {
        var first = Key("ops");
        using (var store = new FileSecurityStore(_directory.Path))
        {
            await store.AddKeyAsync(first);
            await store.AddKeyAsync(Key("other"));
        }
        FlipAByte(Path.Combine(_directory.Path, FileSecurityStore.StateFileName));
        var damage = new StateDamageLog(NullLogger<StateDamageLog>.Instance, TimeProvider.System);
        using var reopened = new FileSecurityStore(_directory.Path, damage);
        var snapshot = await reopened.LoadAsync();
        Assert.Equal(first.Id, Assert.Single(snapshot.Keys).Id);
        Assert.Equal(StateDamageAction.RestoredPrevious, Assert.Single(damage.Events).Action);
    }

    [Fact]
    public async Task AFileWithNoGoodCopy_IsNeverTakenForAnEmptyOne()
    {
        using (var store = new FileSecurityStore(_directory.Path)) await store.AddKeyAsync(Key("ops"));
        string path = Path.Combine(_directory.Path, FileSecurityStore.StateFileName);
        FlipAByte(path);
        File.Delete(StateFile.PreviousOf(path));
        var damage = new StateDamageLog(NullLogger<StateDamageLog>.Instance, TimeProvider.System);
        using var reopened = new FileSecurityStore(_directory.Path, damage);
        await Assert.ThrowsAsync<InvalidDataException>(() => reopened.LoadAsync());
        await Assert.ThrowsAsync<InvalidDataException>(() => reopened.GetVersionAsync());
        // A change would replace the damaged file with one holding less: refused too.
        await Assert.ThrowsAsync<InvalidDataException>(() => reopened.AddRuleAsync(Rule("ops")));
        Assert.Equal(StateDamageAction.Unrecoverable, Assert.Single(damage.Events).Action);
    }

    [Fact]
    public async Task Audit_IsReadNewestFirst_WithinSinceAndLimit_SkippingATornLastLine()
    {
        using var store = new FileSecurityStore(_directory.Path);
        var start = DateTimeOffset.UnixEpoch.AddYears(50);
        for (int i = 0; i < 5; i++)
            await store.AppendAuditAsync(new AuditEvent(start.AddMinutes(i), "ops", "topic.create", $"t{i}", null, "silo"));
        await File.AppendAllTextAsync(Path.Combine(_directory.Path, FileSecurityStore.AuditFileName), "{\"Time\":\"20");
        var newest = await store.ReadAuditAsync(null, 2);
        Assert.Equal(["t4", "t3"], newest.Select(e => e.Target));
        var since = await store.ReadAuditAsync(start.AddMinutes(3), 100);
        Assert.Equal(["t4", "t3"], since.Select(e => e.Target));
        Assert.Equal(5, (await store.ReadAuditAsync(null, 100)).Count);
    }

    private static void FlipAByte(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^3] ^= 0x40;
        File.WriteAllBytes(path, bytes);
    }

    public void Dispose() => _directory.Dispose();
}
