namespace Granary.Client;

/// <summary>Settings of <see cref="GranaryConsumer.RunAsync(Func{ReceivedMessage, CancellationToken, Task}, HandlerOptions?, CancellationToken)"/>.</summary>
public sealed class HandlerOptions
{
    /// <summary>
    /// Most handlers running at once. Messages of one ordering key (the partition under
    /// <see cref="DeliveryMode.Ordered"/>, partition and key otherwise) still run one after another.
    /// Default 16.
    /// </summary>
    public int MaxConcurrency { get; set; } = 16;

    /// <summary>
    /// How long a message whose handler threw waits before its first retry (the nack delay); under the default
    /// <see cref="RetryBackoff"/> each later retry waits about twice as long, with jitter, up to
    /// <see cref="MaxRetryDelay"/>. Zero: at once, every time. Under the ordered modes the later messages of its
    /// partition or key wait with it. Default 1 s.
    /// </summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest retry delay under <see cref="HandlerRetryBackoff.Exponential"/>; at least <see cref="RetryDelay"/>. Default 1 minute.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How the retry delay grows with the message's delivery attempts. Default <see cref="HandlerRetryBackoff.Exponential"/>
    /// (with jitter): attempt n waits between half and all of <c>RetryDelay * 2^(n-1)</c>, at most <see cref="MaxRetryDelay"/>.
    /// </summary>
    public HandlerRetryBackoff RetryBackoff { get; set; } = HandlerRetryBackoff.Exponential;

    /// <summary>
    /// Records which messages were handled, so that a message delivered again after it was handled (a lost ack, a
    /// lease that ran out, a duplicate send with the same <see cref="OutgoingMessage.MessageId"/>) is acknowledged
    /// without running the handler. Null (the default): every delivery runs the handler.
    /// </summary>
    public IIdempotencyStore? IdempotencyStore { get; set; }

    /// <summary>
    /// With an <see cref="IdempotencyStore"/>: the nack delay of a message whose id another handler is processing
    /// right now (<see cref="IdempotencyStatus.InProgress"/>); it comes back once that one has finished or given up.
    /// Each return is a delivery, counted against the group's <c>MaxDeliveries</c>: keep this delay times
    /// <c>MaxDeliveries</c> above the store's claim timeout, or a copy whose first handler died can be dead-lettered
    /// before the dead claim runs out. Default 30 s (20 deliveries wait 10 minutes; the in-memory store's claims
    /// last 5).
    /// </summary>
    public TimeSpan InProgressRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConcurrency, 1, nameof(MaxConcurrency));
        ArgumentOutOfRangeException.ThrowIfLessThan(RetryDelay, TimeSpan.Zero, nameof(RetryDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRetryDelay, RetryDelay, nameof(MaxRetryDelay));
        if (!Enum.IsDefined(RetryBackoff)) throw new ArgumentOutOfRangeException(nameof(RetryBackoff), RetryBackoff, "Unknown backoff.");
        ArgumentOutOfRangeException.ThrowIfLessThan(InProgressRetryDelay, TimeSpan.Zero, nameof(InProgressRetryDelay));
    }

    internal HandlerOptions Clone() => (HandlerOptions)MemberwiseClone();
}
