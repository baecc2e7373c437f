using Granary.Grains.Partitions;
using Microsoft.Extensions.Time.Testing;

namespace Granary.Tests.Partitions;

/// <summary>The long-poll wake-up of partition fetches, on a fake clock.</summary>
public sealed class AppendSignalTests
{
    [Fact]
    public async Task WaitAsync_Signal_WakesEveryWaitingFetch()
    {
        var time = new FakeTimeProvider();
        var signal = new AppendSignal(time);
        var first = signal.WaitAsync(TimeSpan.FromSeconds(30));
        var second = signal.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(first.IsCompleted);

        signal.Signal();

        Assert.True(await first.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(await second.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task WaitAsync_NoSignal_EndsAtMaxWaitOnTheClock_WithoutThrowing()
    {
        var time = new FakeTimeProvider();
        var signal = new AppendSignal(time);
        var wait = signal.WaitAsync(TimeSpan.FromSeconds(10));

        time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(wait.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.False(await wait.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task WaitAsync_StartedAfterASignal_WaitsForTheNextOne()
    {
        var time = new FakeTimeProvider();
        var signal = new AppendSignal(time);
        signal.Signal();

        var wait = signal.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Yield();
        Assert.False(wait.IsCompleted);

        signal.Signal();
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task WaitAsync_ZeroWait_ReturnsAtOnce()
    {
        var signal = new AppendSignal(new FakeTimeProvider());

        Assert.False(await signal.WaitAsync(TimeSpan.Zero));
    }
}
