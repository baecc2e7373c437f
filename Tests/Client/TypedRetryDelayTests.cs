using Granary.Client.Internal;

namespace Granary.Tests.Client;

/// <summary>The handler retry rule: exponential backoff with jitter by default, capped; constant on request.</summary>
public sealed class TypedRetryDelayTests
{
    [Fact]
    public void Default_IsExponentialWithJitter_FromOneSecond_CappedAtOneMinute()
    {
        var options = new HandlerOptions();
        Assert.Equal((HandlerRetryBackoff.Exponential, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1)), (options.RetryBackoff, options.RetryDelay, options.MaxRetryDelay));
        var top = new RetryDelayRule(options.RetryDelay, options.MaxRetryDelay, options.RetryBackoff, jitter: () => 1.0);
        var bottom = new RetryDelayRule(options.RetryDelay, options.MaxRetryDelay, options.RetryBackoff, jitter: () => 0.0);
        // Ceiling doubles per attempt; the jitter draws between half and all of it.
        Assert.Equal([1, 2, 4, 8, 16, 32, 60, 60], Enumerable.Range(1, 8).Select(a => top.DelayAfter(a).TotalSeconds));
        Assert.Equal([0.5, 1, 2, 4, 8, 16, 30, 30], Enumerable.Range(1, 8).Select(a => bottom.DelayAfter(a).TotalSeconds));
        Assert.Equal(TimeSpan.FromSeconds(60), top.DelayAfter(int.MaxValue)); // no overflow far out
    }

    [Fact]
    public void Jitter_SpreadsTheDelays_OfMessagesThatFailedTogether()
    {
        var rule = new RetryDelayRule(new HandlerOptions());
        var delays = Enumerable.Range(0, 200).Select(_ => rule.DelayAfter(3)).ToList();
        Assert.All(delays, d => Assert.InRange(d, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)));
        Assert.True(delays.Distinct().Count() > 100, "the delays should differ");
    }

    [Fact]
    public void Constant_And_Zero_AreExact()
    {
        var constant = new RetryDelayRule(TimeSpan.FromSeconds(3), TimeSpan.FromMinutes(1), HandlerRetryBackoff.Constant, jitter: () => 0.0);
        Assert.All(Enumerable.Range(1, 5), a => Assert.Equal(TimeSpan.FromSeconds(3), constant.DelayAfter(a)));
        var immediate = new RetryDelayRule(new HandlerOptions { RetryDelay = TimeSpan.Zero });
        Assert.All(Enumerable.Range(1, 5), a => Assert.Equal(TimeSpan.Zero, immediate.DelayAfter(a)));
    }

    [Fact]
    public void Options_OutOfRange_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new HandlerOptions { RetryDelay = TimeSpan.FromMinutes(2) }.Validate()); // above MaxRetryDelay
        Assert.Throws<ArgumentOutOfRangeException>(() => new HandlerOptions { RetryBackoff = (HandlerRetryBackoff)7 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchHandlerOptions { MaxBatchSize = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchHandlerOptions { MaxBatchWait = TimeSpan.FromMilliseconds(-1) }.Validate());
    }
}
