using Granary.Grains.Partitions;

namespace Granary.Tests.Partitions;

/// <summary>When a partition wakes its cursors for expiring and delayed messages.</summary>
public sealed class TimedAppendWatchTests
{
    [Fact]
    public void OnTimedAppend_WakesOnce_UntilACursorStopsWatching()
    {
        var watch = new TimedAppendWatch();

        Assert.True(watch.OnTimedAppend(10));
        Assert.False(watch.OnTimedAppend(20));
        Assert.False(watch.OnWatchStopped(20)); // it saw everything: the next timed append wakes again
        Assert.True(watch.OnTimedAppend(30));
    }

    [Fact]
    public void OnWatchStopped_TimedAppendAfterItsLastLook_WakesItAtOnce()
    {
        var watch = new TimedAppendWatch();
        watch.OnTimedAppend(10);
        watch.OnTimedAppend(25);

        Assert.True(watch.OnWatchStopped(20));
        Assert.False(watch.OnTimedAppend(30)); // the cursor was woken directly; the others still watch
    }

    [Fact]
    public void OnWakeFailed_NextTimedAppendTriesAgain()
    {
        var watch = new TimedAppendWatch();
        Assert.True(watch.OnTimedAppend(10));

        watch.OnWakeFailed();

        Assert.True(watch.OnTimedAppend(11));
    }
}
