using Granary.Grains.ConsumerGroups;
using Microsoft.Extensions.Time.Testing;

namespace Granary.Tests.ConsumerGroups;

/// <summary>The consumer group's session rule on a fake clock: silent longer than the session timeout means gone.</summary>
public sealed class MemberSessionsTests
{
    private static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));

    [Fact]
    public void Expired_SilentForExactlyTheTimeout_IsNotExpired_OneTickLaterIs()
    {
        var sessions = new MemberSessions(_time, SessionTimeout);
        sessions.Join("a");

        _time.Advance(SessionTimeout);
        Assert.Empty(sessions.Expired());

        _time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(["a"], sessions.Expired());
    }

    [Fact]
    public void TryRenew_AHeartbeat_StartsTheTimeoutAgain()
    {
        var sessions = new MemberSessions(_time, SessionTimeout);
        sessions.Join("a");
        sessions.Join("b");

        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.True(sessions.TryRenew("a"));
        _time.Advance(TimeSpan.FromSeconds(20)); // b silent 40 s, a 20 s

        Assert.Equal(["b"], sessions.Expired());
        _time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(["a", "b"], sessions.Expired().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Join_AgainByAMember_RenewsItsSession()
    {
        var sessions = new MemberSessions(_time, SessionTimeout);
        sessions.Join("a");
        _time.Advance(TimeSpan.FromSeconds(25));
        sessions.Join("a");
        _time.Advance(TimeSpan.FromSeconds(25));

        Assert.Empty(sessions.Expired());
        Assert.Equal(1, sessions.Count);
    }

    [Fact]
    public void TryRenew_UnknownOrRemovedMember_IsRefused_AndStartsNoSession()
    {
        var sessions = new MemberSessions(_time, SessionTimeout);
        Assert.False(sessions.TryRenew("ghost"));
        Assert.False(sessions.Contains("ghost"));

        sessions.Join("a");
        Assert.True(sessions.Remove("a"));
        Assert.False(sessions.Remove("a"));
        Assert.False(sessions.TryRenew("a")); // it must join again: a heartbeat does not bring a departed member back
        Assert.Equal(0, sessions.Count);
    }

    [Fact]
    public void Expired_KeepsTheSessions_UntilTheCallerRemovesThem()
    {
        var sessions = new MemberSessions(_time, SessionTimeout);
        sessions.Join("a");
        _time.Advance(SessionTimeout + TimeSpan.FromSeconds(1));

        Assert.Equal(["a"], sessions.Expired());
        Assert.True(sessions.Contains("a")); // the group releases its leases first, then removes it
        Assert.Equal(["a"], sessions.Expired());
        sessions.Remove("a");
        Assert.Empty(sessions.Expired());
    }

    [Fact]
    public void Expired_WallClockJumpsAhead_DoesNotEndASessionThatIsStillAlive()
    {
        var clock = new WallClockApartFromTimestamps();
        var sessions = new MemberSessions(clock, SessionTimeout);
        sessions.Join("a");

        clock.WallClock += TimeSpan.FromHours(1); // NTP step, VM resume: the calendar moved, the member did not go quiet
        clock.Timestamp += TimeProvider.System.TimestampFrequency; // one second of elapsed time
        Assert.Empty(sessions.Expired());

        clock.Timestamp += 30 * TimeProvider.System.TimestampFrequency;
        Assert.Equal(["a"], sessions.Expired());
    }

    [Fact]
    public void Constructor_NonPositiveTimeout_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MemberSessions(_time, TimeSpan.Zero));
        Assert.Throws<ArgumentNullException>(() => new MemberSessions(null!, SessionTimeout));
    }

    /// <summary>A clock whose calendar time and elapsed time move independently, as they do when the wall clock is stepped.</summary>
    private sealed class WallClockApartFromTimestamps : TimeProvider
    {
        public DateTimeOffset WallClock { get; set; } = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

        public long Timestamp { get; set; } = 1_000;

        public override DateTimeOffset GetUtcNow() => WallClock;

        public override long GetTimestamp() => Timestamp;

        public override long TimestampFrequency => TimeProvider.System.TimestampFrequency;
    }
}
