using Granary.Grains.Replication;
using Granary.Storage;

namespace Granary.Grains.Partitions;

/// <summary>
/// Makes a new leader's local log agree with the most advanced copy (see <see cref="LeaderReconciliation.MostAdvanced"/>)
/// before it takes appends: cut where the two diverge (by leader epochs, as Kafka's OffsetsForLeaderEpoch), restart
/// empty when the copy's retained start is past this log's end, then copy what the log lacks. The copy is reached
/// through two calls (in the grain, the replica grain's <c>EndOfEpochAsync</c> and <c>ReadAsync</c> under the new
/// leader's epoch), so the rule runs on two plain logs in tests.
/// </summary>
internal static class LeaderCatchUp
{
    /// <summary>Bytes asked per read of the copy.</summary>
    public const int CopyBytes = 1 << 20;

    /// <param name="log">The new leader's log.</param>
    /// <param name="epochs">Its leader epochs.</param>
    /// <param name="truth">Where the copy to agree with starts and ends.</param>
    /// <param name="endOfEpoch">The copy's answer for an epoch of this log: its latest epoch at or below it and where that ends.</param>
    /// <param name="read">Reads the copy from an offset (at most the given bytes): the epoch the batches were written in and the batches.</param>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.PartitionUnavailable"/>: the copy ended short of what it
    /// claimed, so this log could lack committed records; the leader must not lead (the next call retries).</exception>
    public static async Task RunAsync(PartitionLog log, LeaderEpochs epochs, ReplicaState truth,
        Func<long, Task<EpochEnd>> endOfEpoch, Func<long, int, Task<ReplicaRead>> read)
    {
        while (log.EndOffset > log.StartOffset && ReplicaCopy.TruncateToAgreement(log, epochs, await endOfEpoch(epochs.LastEpoch)))
        {
        }
        if (log.EndOffset < truth.StartOffset)
        {
            log.ResetTo(truth.StartOffset);
            epochs.TruncateFrom(0);
        }
        while (log.EndOffset < truth.EndOffset)
        {
            long from = log.EndOffset;
            var copied = await read(from, CopyBytes);
            if (copied.Batches.Length == 0)
                throw new GranaryException(GranaryErrorCode.PartitionUnavailable, $"The copy to catch up from ended at {from}, short of {truth.EndOffset}; retry.");
            epochs.Begin(copied.Epoch, from);
            await ReplicaCopy.AppendAsync(log, copied.Batches);
        }
        await log.FlushAsync();
    }
}
