using Granary.Grains;

namespace Granary.Client;

/// <summary>Batching and flow control of a producer.</summary>
public sealed class ProducerOptions
{
    /// <summary>
    /// How messages with neither key, message id nor explicit partition are spread over the partitions. Default
    /// <see cref="UnkeyedPartitioning.Sticky"/> (Kafka's default): <see cref="StickyPartitionBytes"/> to one partition,
    /// then the next, so that batches hold many messages; <see cref="UnkeyedPartitioning.RoundRobin"/> sends each
    /// message to the next partition. Keyed messages go by their key and messages with an id by the id either way.
    /// </summary>
    public UnkeyedPartitioning UnkeyedPartitioning { get; set; } = UnkeyedPartitioning.Sticky;

    /// <summary>
    /// With <see cref="UnkeyedPartitioning.Sticky"/>: bytes of unkeyed messages (as counted in a batch) that go to one
    /// partition before the producer moves to the next. Default 16 KiB (Kafka's <c>batch.size</c>, at which its sticky
    /// partitioner moves on). Larger makes bigger batches and a coarser spread.
    /// </summary>
    public int StickyPartitionBytes { get; set; } = 16 * 1024;

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
    /// Batches in flight per partition. Default 1, which keeps per-key order even when a batch is retried. More raises
    /// throughput; with idempotence a partition refuses a batch while an earlier one is being retried, so order still
    /// holds unless a batch fails for good (then later ones can land before a re-sent one). At most
    /// <see cref="MaxInFlightWithIdempotence"/> with <see cref="EnableIdempotence"/>.
    /// </summary>
    public int MaxInFlightBatchesPerPartition { get; set; } = 1;

    /// <summary>Largest <see cref="MaxInFlightBatchesPerPartition"/> allowed with <see cref="EnableIdempotence"/>: partitions remember this many batches per producer and more.</summary>
    public const int MaxInFlightWithIdempotence = 5;

    /// <summary>
    /// Number every batch with a producer id and per-partition sequence, so that a partition stores a retried batch
    /// only once and answers the retry with the first attempt's offsets. Default true. Partitions remember a producer
    /// for the silo's <c>Granary:Producers:ProducerStateRetention</c> (default 1 day) after its last batch, across
    /// silo restarts and crashes.
    /// </summary>
    public bool EnableIdempotence { get; set; } = true;

    /// <summary>
    /// How often the producer re-reads the topic's settings, to pick up partitions added to a live topic. Default 5 s.
    /// A send to a partition the producer does not know yet refreshes them at once.
    /// </summary>
    public TimeSpan MetadataRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Messages waiting per partition before <c>SendAsync</c> waits for room (back-pressure). Default 100,000.</summary>
    public int MaxBufferedMessages { get; set; } = 100_000;

    /// <summary>
    /// Retries of a batch after a retriable error (partition unavailable, timeout, queue full), with a backoff from
    /// 100 ms doubling up to 5 s. Default 3. With <see cref="EnableIdempotence"/> (the default) a retried batch whose
    /// confirmation was lost is not stored again; without it, it can be stored twice. A batch that fails after the
    /// retries may or may not have been stored.
    /// </summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>
    /// When a send is confirmed on a replicated topic: <see cref="Acks.All"/> (the default) once the topic's
    /// <c>MinInSyncReplicas</c> replicas hold it durably, so losing a silo loses no confirmed message;
    /// <see cref="Acks.Leader"/> once the partition's leader does (faster; a failover can lose it).
    /// </summary>
    public Acks Acks { get; set; } = Acks.All;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchBytes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(BatchBytes, 16 << 20);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchMessages, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(LingerMs);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxInFlightBatchesPerPartition, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBufferedMessages, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxRetries);
        if (!Enum.IsDefined(UnkeyedPartitioning)) throw new ArgumentOutOfRangeException(nameof(UnkeyedPartitioning), UnkeyedPartitioning, "Unknown partitioning.");
        ArgumentOutOfRangeException.ThrowIfLessThan(StickyPartitionBytes, 1);
        if (!Enum.IsDefined(Acks)) throw new ArgumentOutOfRangeException(nameof(Acks), Acks, "Unknown acks setting.");
        if (EnableIdempotence) ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxInFlightBatchesPerPartition, MaxInFlightWithIdempotence);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(MetadataRefreshInterval, TimeSpan.Zero);
    }
}
