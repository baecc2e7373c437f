namespace Granary.Storage;

/// <summary>What a partition remembers of one idempotent producer: its last sequence and its last few batches.</summary>
/// <param name="ProducerId">The producer id (never 0).</param>
/// <param name="LastSequence">The last producer sequence the partition has processed.</param>
/// <param name="LastSeenMs">Broker time of its last batch (Unix milliseconds), for expiry.</param>
/// <param name="Batches">Its most recent batches, oldest first (at most <see cref="ProducerStateSnapshot.MaxBatchesPerProducer"/>).</param>
public sealed record ProducerStateEntry(long ProducerId, int LastSequence, long LastSeenMs, IReadOnlyList<ProducerBatchInfo> Batches);
