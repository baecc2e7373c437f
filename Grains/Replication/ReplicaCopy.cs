using Granary.Storage;

namespace Granary.Grains.Replication;

/// <summary>Reads stored batches to copy to another replica, never across a leader epoch boundary.</summary>
internal static class ReplicaCopy
{
    public static async Task<ReplicaRead> ReadAsync(PartitionLog log, LeaderEpochs epochs, long fromOffset, int maxBytes, long maxOffset = long.MaxValue)
    {
        long end = Math.Min(log.EndOffset, maxOffset);
        var (epoch, epochEnd) = epochs.EpochAt(fromOffset, end);
        if (fromOffset >= epochEnd) return new ReplicaRead(epoch, [], fromOffset);
        using var read = await log.ReadAsync(fromOffset, maxBytes, epochEnd);
        return new ReplicaRead(epoch, read.Batches.ToArray(), read.NextOffset);
    }
}
