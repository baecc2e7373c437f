namespace Granary.Client;

/// <summary>Settings of an <see cref="InMemoryIdempotencyStore"/>.</summary>
public sealed class InMemoryIdempotencyStoreOptions
{
    /// <summary>
    /// Most ids kept; beyond it the least recently written are forgotten first (a forgotten id is handled again if
    /// it comes back). Keep it well above the number of handlers running at once. Default 100,000.
    /// </summary>
    public int Capacity { get; set; } = 100_000;

    /// <summary>How long a completed id is remembered. Default 1 hour.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How long a claim (a handler running) holds before another delivery of the same id may take it over; make it
    /// longer than the slowest handler (e.g. the consumer's <c>AckTimeout</c>). Default 5 min.
    /// </summary>
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromMinutes(5);

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Capacity, 1, nameof(Capacity));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Retention, TimeSpan.Zero, nameof(Retention));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ClaimTimeout, TimeSpan.Zero, nameof(ClaimTimeout));
    }
}
