using Microsoft.Extensions.Time.Testing;

namespace Granary.Tests.Client;

public sealed class InMemoryIdempotencyStoreTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Completed_IsADuplicateUntilRetentionPasses_ThenStartsAgain()
    {
        var time = new FakeTimeProvider();
        var store = new InMemoryIdempotencyStore(new InMemoryIdempotencyStoreOptions { Retention = TimeSpan.FromMinutes(10) }, time);

        Assert.Equal(IdempotencyStatus.Started, await store.TryBeginAsync("m1", None));
        await store.CompleteAsync("m1", None);
        time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromTicks(1));
        Assert.Equal(IdempotencyStatus.Completed, await store.TryBeginAsync("m1", None));

        time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(IdempotencyStatus.Started, await store.TryBeginAsync("m1", None));
    }

    [Fact]
    public async Task Claim_IsInProgressForOthers_UntilItTimesOut()
    {
        var time = new FakeTimeProvider();
        var store = new InMemoryIdempotencyStore(new InMemoryIdempotencyStoreOptions { ClaimTimeout = TimeSpan.FromMinutes(1) }, time);

        Assert.Equal(IdempotencyStatus.Started, await store.TryBeginAsync("m1", None));
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(IdempotencyStatus.InProgress, await store.TryBeginAsync("m1", None));

        time.Advance(TimeSpan.FromSeconds(1)); // the holder died: another delivery may take over
        Assert.Equal(IdempotencyStatus.Started, await store.TryBeginAsync("m1", None));
    }

    [Fact]
    public async Task Abandon_ReleasesAClaim_ButNotACompletedId()
    {
        var store = new InMemoryIdempotencyStore();

        Assert.Equal(IdempotencyStatus.Started, await store.TryBeginAsync("failed", None));
        await store.AbandonAsync("failed", None);
        Assert.Equal(IdempotencyStatus.Started, await store.TryBeginAsync("failed", None));

        Assert.Equal(IdempotencyStatus.Started, await store.TryBeginAsync("done", None));
        await store.CompleteAsync("done", None);
        await store.AbandonAsync("done", None);
        Assert.Equal(IdempotencyStatus.Completed, await store.TryBeginAsync("done", None));
    }

    [Fact]
    public async Task Capacity_ForgetsTheLeastRecentlyWrittenIds()
    {
        var store = new InMemoryIdempotencyStore(new InMemoryIdempotencyStoreOptions { Capacity = 2 });
        foreach (string id in new[] { "a", "b", "c" })
        {
            await store.TryBeginAsync(id, None);
            await store.CompleteAsync(id, None);
        }

        Assert.Equal(2, store.Count);
        Assert.Equal(IdempotencyStatus.Completed, await store.TryBeginAsync("c", None));
        Assert.Equal(IdempotencyStatus.Completed, await store.TryBeginAsync("b", None));
        Assert.Equal(IdempotencyStatus.Started, await store.TryBeginAsync("a", None)); // evicted: handled again
    }

    [Fact]
    public async Task ExpiredEntries_AreDroppedOnLaterWrites()
    {
        var time = new FakeTimeProvider();
        var store = new InMemoryIdempotencyStore(new InMemoryIdempotencyStoreOptions { Retention = TimeSpan.FromMinutes(1) }, time);
        for (int i = 0; i < 100; i++) await store.CompleteAsync($"old-{i}", None);

        time.Advance(TimeSpan.FromMinutes(1));
        await store.CompleteAsync("new", None);

        Assert.Equal(1, store.Count);
    }

    [Fact]
    public void Options_OutOfRange_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryIdempotencyStore(new InMemoryIdempotencyStoreOptions { Capacity = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryIdempotencyStore(new InMemoryIdempotencyStoreOptions { Retention = TimeSpan.Zero }));
    }
}
