using Granary.Records;
using Granary.Storage;

namespace Granary.Grains.Replication;

/// <summary>Copies stored batches between replicas: reads never cross a leader epoch boundary; appends keep the offsets.</summary>
internal static class ReplicaCopy
{
    /// <summary>
    /// Appends whole stored batches (as read from another replica's log ending where this one ends, so each keeps its
    /// offsets) and completes once they are durable.
    /// </summary>
    public static Task AppendAsync(PartitionLog log, byte[] batches)
    {
        var pending = new List<Task>();
        for (int position = 0; position < batches.Length;)
        {
            int size = checked((int)RecordBatchCodec.ReadTotalSize(batches.AsSpan(position)));
            pending.Add(log.AppendCopyAsync(batches.AsMemory(position, size)).AsTask());
            position += size;
        }
        return Task.WhenAll(pending);
    }

    /// <summary>
    /// Cuts <paramref name="log"/> where it stops agreeing with a copy that answered <paramref name="other"/> for this
    /// log's last epoch; returns whether anything was cut. A cut below the retained start empties the log (it agrees
    /// on nothing it still has).
    /// </summary>
    public static bool TruncateToAgreement(PartitionLog log, LeaderEpochs epochs, EpochEnd other)
    {
        long agreed = epochs.AgreedEnd((other.Epoch, other.EndOffset), log.EndOffset);
        if (log.EndOffset <= agreed) return false;
        log.TruncateTo(Math.Max(agreed, log.StartOffset));
        epochs.TruncateFrom(log.EndOffset);
        return true;
    }

    public static async Task<ReplicaRead> ReadAsync(PartitionLog log, LeaderEpochs epochs, long fromOffset, int maxBytes, long maxOffset = long.MaxValue)
    {
        long end = Math.Min(log.EndOffset, maxOffset);
        var (epoch, epochEnd) = epochs.EpochAt(fromOffset, end);
        if (fromOffset >= epochEnd) return new ReplicaRead(epoch, [], fromOffset);
        using var read = await log.ReadAsync(fromOffset, maxBytes, epochEnd);
        return new ReplicaRead(epoch, read.Batches.ToArray(), read.NextOffset);
    }
}
