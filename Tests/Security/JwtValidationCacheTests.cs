using Granary.Grains.Security.Jwt;

namespace Granary.Tests.Security;

/// <summary>The cache of valid tokens answers until a token's expiry and never grows past its capacity.</summary>
public sealed class JwtValidationCacheTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ValidToken_IsServedUntilItsExpiry()
    {
        var cache = new JwtValidationCache(capacity: 10);
        var alice = JwtAuthentication.Success("alice", Now.AddMinutes(5));
        cache.Add("token-a", alice, Now);

        Assert.True(cache.TryGet("token-a", Now.AddMinutes(4), out var hit));
        Assert.Same(alice, hit);
        Assert.False(cache.TryGet("token-a", Now.AddMinutes(5), out _));
        Assert.Equal(0, cache.Count);   // the expired entry went on lookup
    }

    [Fact]
    public void RefusedOrAlreadyExpired_IsNotCached()
    {
        var cache = new JwtValidationCache(capacity: 10);
        cache.Add("refused", JwtAuthentication.Failed(JwtFailureReason.Expired, "expired"), Now);
        cache.Add("stale", JwtAuthentication.Success("bob", Now), Now);

        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Full_SweepsExpiredEntriesFirst_ThenStartsOver_NeverGrowingPastCapacity()
    {
        var cache = new JwtValidationCache(capacity: 3);
        cache.Add("short", JwtAuthentication.Success("a", Now.AddMinutes(1)), Now);
        cache.Add("long-1", JwtAuthentication.Success("b", Now.AddHours(1)), Now);
        cache.Add("long-2", JwtAuthentication.Success("c", Now.AddHours(1)), Now);

        // "short" has expired by now: it makes room.
        cache.Add("long-3", JwtAuthentication.Success("d", Now.AddHours(1)), Now.AddMinutes(2));
        Assert.Equal(3, cache.Count);
        Assert.True(cache.TryGet("long-1", Now.AddMinutes(2), out _));

        // All live: the cache starts over with the newcomer rather than grow.
        cache.Add("long-4", JwtAuthentication.Success("e", Now.AddHours(1)), Now.AddMinutes(2));
        Assert.Equal(1, cache.Count);
        Assert.True(cache.TryGet("long-4", Now.AddMinutes(2), out _));

        for (int i = 0; i < 100; i++) cache.Add($"flood-{i}", JwtAuthentication.Success("f", Now.AddHours(1)), Now.AddMinutes(2));
        Assert.InRange(cache.Count, 1, 3);
    }
}
