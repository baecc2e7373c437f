namespace Granary.Client.Internal;

/// <summary>
/// The nack delay of a message whose handler failed, from its delivery attempt: exponential with jitter, or constant
/// (<see cref="HandlerRetryBackoff"/>). The delay is counted by the broker (a nack delay), so the rule reads no
/// clock; <paramref name="jitter"/> (a number in [0, 1), <see cref="Random.Shared"/> by default) is injected so that
/// tests can pin it.
/// </summary>
internal sealed class RetryDelayRule(TimeSpan retryDelay, TimeSpan maxRetryDelay, HandlerRetryBackoff backoff, Func<double>? jitter = null)
{
    private readonly Func<double> _jitter = jitter ?? Random.Shared.NextDouble;

    public RetryDelayRule(HandlerOptions options) : this(options.RetryDelay, options.MaxRetryDelay, options.RetryBackoff)
    {
    }

    public RetryDelayRule(BatchHandlerOptions options) : this(options.RetryDelay, options.MaxRetryDelay, options.RetryBackoff)
    {
    }

    /// <summary>The delay before delivery <paramref name="deliveryAttempt"/> + 1, after delivery <paramref name="deliveryAttempt"/> failed.</summary>
    public TimeSpan DelayAfter(int deliveryAttempt)
    {
        if (backoff == HandlerRetryBackoff.Constant || retryDelay == TimeSpan.Zero) return retryDelay;
        // retryDelay * 2^(attempt - 1), capped; the exponent is capped too, so that it never overflows.
        int doublings = Math.Clamp(deliveryAttempt - 1, 0, 62);
        double ceilingTicks = Math.Min(maxRetryDelay.Ticks, retryDelay.Ticks * Math.Pow(2, doublings));
        // Equal jitter: at least half the ceiling, so a retry is never (nearly) immediate.
        return TimeSpan.FromTicks((long)(ceilingTicks / 2 + _jitter() * ceilingTicks / 2));
    }
}
