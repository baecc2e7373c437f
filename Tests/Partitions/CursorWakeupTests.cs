using Granary.Grains.Partitions;
using Microsoft.Extensions.Logging.Abstractions;

namespace Granary.Tests.Partitions;

/// <summary>The calls a partition makes to wake its cursors for expiring and delayed messages, with the grains faked.</summary>
public sealed class CursorWakeupTests
{
    [Fact]
    public async Task OnTimedAppend_WakesEveryGroupsCursorOnce_UntilOneStopsWatching()
    {
        var woken = new List<string>();
        var wakeup = new CursorWakeup(() => Task.FromResult<string[]>(["g1", "g2"]), group => { woken.Add(group); return Task.CompletedTask; },
            "t", 0, NullLogger.Instance);

        await wakeup.OnTimedAppend(10);
        await wakeup.OnTimedAppend(20);
        Assert.Equal(["g1", "g2"], woken);

        await wakeup.OnWatchStopped("g2", 20); // it saw everything: not woken, and the next timed append wakes all again
        await wakeup.OnTimedAppend(30);
        Assert.Equal(["g1", "g2", "g1", "g2"], woken);
    }

    [Fact]
    public async Task OnWatchStopped_TimedAppendAfterItsLastLook_WakesOnlyThatGroupAtOnce()
    {
        var woken = new List<string>();
        var wakeup = new CursorWakeup(() => Task.FromResult<string[]>(["g1", "g2"]), group => { woken.Add(group); return Task.CompletedTask; },
            "t", 0, NullLogger.Instance);
        await wakeup.OnTimedAppend(25);
        woken.Clear();

        await wakeup.OnWatchStopped("g1", 20);

        Assert.Equal(["g1"], woken);
    }

    [Fact]
    public async Task AFailedWakeUp_IsReportedNotThrown_AndTheNextTimedAppendTriesAgain()
    {
        bool down = true;
        var woken = new List<string>();
        var wakeup = new CursorWakeup(() => Task.FromResult<string[]>(["g"]),
            group => { if (down) throw new TimeoutException("cursor unreachable"); woken.Add(group); return Task.CompletedTask; },
            "t", 0, NullLogger.Instance);

        await wakeup.OnTimedAppend(10);
        down = false;
        await wakeup.OnTimedAppend(11);

        Assert.Equal(["g"], woken);
    }
}
