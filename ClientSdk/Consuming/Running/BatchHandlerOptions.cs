namespace Granary.Client;

/// <summary>Settings of a batch handler run (<see cref="TypedConsumerExtensions.RunBatchesAsync{T}"/>, <see cref="IBatchMessageHandler{T}"/>).</summary>
public sealed class BatchHandlerOptions
{
    /// <summary>Most messages in one batch. Default 100.</summary>
    public int MaxBatchSize { get; set; } = 100;

    /// <summary>
    /// How long a batch waits for more messages after its first one arrived, before it is handled with fewer than
    /// <see cref="MaxBatchSize"/>. Keep it well under the consumer's <see cref="ConsumerOptions.AckTimeout"/>. Default 100 ms.
    /// </summary>
    public TimeSpan MaxBatchWait { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The nack delay of a failed batch's first retry; later retries double it, with jitter, up to
    /// <see cref="MaxRetryDelay"/> (<see cref="HandlerRetryBackoff"/>). Zero: at once. Default 1 s.
    /// </summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest retry delay. Default 1 minute.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How the retry delay grows. Default <see cref="HandlerRetryBackoff.Exponential"/>.</summary>
    public HandlerRetryBackoff RetryBackoff { get; set; } = HandlerRetryBackoff.Exponential;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchSize, 1, nameof(MaxBatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchWait, TimeSpan.Zero, nameof(MaxBatchWait));
        ArgumentOutOfRangeException.ThrowIfLessThan(RetryDelay, TimeSpan.Zero, nameof(RetryDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRetryDelay, RetryDelay, nameof(MaxRetryDelay));
        if (!Enum.IsDefined(RetryBackoff)) throw new ArgumentOutOfRangeException(nameof(RetryBackoff), RetryBackoff, "Unknown backoff.");
    }

    internal BatchHandlerOptions Clone() => (BatchHandlerOptions)MemberwiseClone();
}
