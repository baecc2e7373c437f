namespace Granary.Client;

/// <summary>Batching and flow control of a producer.</summary>
public sealed class ProducerOptions
{
    /// <summary>
    /// Send a partition's batch once it holds this many bytes; a batch never grows past it (a single larger message
    /// travels alone). Default 256 KiB, at most 16 MiB.
    /// </summary>
    public int BatchBytes { get; set; } = 256 * 1024;

    /// <summary>Most messages in one batch. Default 10,000.</summary>
    public int MaxBatchMessages { get; set; } = 10_000;

    /// <summary>
    /// Wait up to this long for a partition's batch to fill before sending it. Default 0: send at once; messages that
    /// arrive while a batch is in flight form the next batch anyway.
    /// </summary>
    public int LingerMs { get; set; }

    /// <summary>
    /// Batches in flight per partition. Default 1, which keeps per-key order even when a batch is retried; more
    /// raises throughput but a retried batch can land after a later one.
    /// </summary>
    public int MaxInFlightBatchesPerPartition { get; set; } = 1;

    /// <summary>Messages waiting per partition before <c>SendAsync</c> waits for room (back-pressure). Default 100,000.</summary>
    public int MaxBufferedMessages { get; set; } = 100_000;

    /// <summary>
    /// Retries of a batch after a retriable error (partition unavailable, timeout). Default 3. A batch whose
    /// confirmation was lost can be stored twice when retried.
    /// </summary>
    public int MaxRetries { get; set; } = 3;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchBytes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(BatchBytes, 16 << 20);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchMessages, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(LingerMs);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxInFlightBatchesPerPartition, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBufferedMessages, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxRetries);
    }
}
