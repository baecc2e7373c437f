using Granary.Storage;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Replication;

/// <summary>
/// The leader's side of one follower: brings the follower's copy in line with the leader's log (truncating what
/// diverged, by leader epoch) and then streams every new batch to it, one call at a time, each carrying everything
/// appended since the last (so a slow follower gets bigger copies, not more calls).
/// </summary>
internal sealed partial class FollowerLink(PartitionReplicator owner, string node, IPartitionReplicaGrain replica, bool reachable)
{
    private const int MaxCopyBytes = 1 << 20;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);

    /// <summary>The follower's node.</summary>
    public string Node { get; } = node;

    /// <summary>The follower holds everything below this durably, in agreement with the leader; -1 until known.</summary>
    public long AckedEnd { get; private set; } = -1;

    /// <summary>
    /// The follower's last epoch. Its copy counts towards the commit only once this is the leader's epoch (it took the
    /// epoch marker or a batch of this epoch): then no copy of an older leader's can win a later election over it.
    /// </summary>
    public long FollowerEpoch { get; private set; }

    /// <summary>The last call to the follower succeeded (before the first: it answered the leader's fence).</summary>
    public bool Healthy { get; private set; } = reachable;

    public async Task RunAsync()
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        bool synced = false;
        while (!owner.Stopped)
        {
            try
            {
                if (!synced)
                {
                    await SyncAsync();
                    synced = true;
                    Healthy = true;
                    owner.OnFollowerProgress();
                }
                var log = owner.Log;
                long from = AckedEnd;
                if (from < log.StartOffset) { synced = false; continue; }
                if (FollowerEpoch < owner.Epoch && from >= owner.EpochStart)
                {
                    // The epoch marker: empty, it only makes the follower record that this epoch writes from here.
                    if (!Accept(await replica.AppendAsync(owner.Epoch, owner.Epoch, from, []), from)) synced = false;
                    continue;
                }
                if (from >= log.EndOffset)
                {
                    await owner.WaitForAppendAsync(from);
                    continue;
                }
                var read = await ReplicaCopy.ReadAsync(log, owner.Epochs, from, MaxCopyBytes);
                if (read.Batches.Length == 0) { synced = false; continue; }
                if (!Accept(await replica.AppendAsync(owner.Epoch, read.Epoch, from, read.Batches), read.NextOffset)) synced = false;
                backoff = TimeSpan.FromMilliseconds(100);
            }
            catch (GranaryException e) when (e.Code == GranaryErrorCode.NotLeader)
            {
                owner.OnDeposed(); // a newer leader fenced this follower: this one must stop serving
                return;
            }
            catch (Exception e) when (!owner.Stopped)
            {
                if (Healthy) LogFollowerFailed(owner.Logger, e, Node, owner.Name);
                Healthy = false;
                synced = false;
                await Task.Delay(backoff);
                backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
            }
            catch (Exception)
            {
                return; // stopping: the follower's state no longer matters
            }
        }
    }

    /// <summary>Takes the follower's answer to an append: true when it now ends at <paramref name="expectedEnd"/>.</summary>
    private bool Accept(ReplicaState state, long expectedEnd)
    {
        if (state.EndOffset != expectedEnd) return false;
        AckedEnd = state.EndOffset;
        FollowerEpoch = state.LastEpoch;
        Healthy = true;
        owner.OnFollowerProgress();
        return true;
    }

    /// <summary>
    /// Cuts the follower where its epochs stop agreeing with the leader's (asking again after each cut, as Kafka's
    /// followers do), then empties it if it ends before the leader's retained start.
    /// </summary>
    private async Task SyncAsync()
    {
        var log = owner.Log;
        var state = await replica.FenceAsync(owner.Epoch);
        while (state.EndOffset > state.StartOffset)
        {
            var (epoch, end) = owner.Epochs.Floor(state.LastEpoch, log.EndOffset);
            var cut = await replica.TruncateToAgreementAsync(owner.Epoch, new EpochEnd(epoch, end));
            if (cut.EndOffset == state.EndOffset) break;
            state = cut;
        }
        if (state.EndOffset < log.StartOffset) state = await replica.ResetAsync(owner.Epoch, log.StartOffset);
        AckedEnd = state.EndOffset;
        FollowerEpoch = state.LastEpoch;
    }

    [LoggerMessage(2101, LogLevel.Warning, "Follower {Node} of partition {Partition} is unreachable or failed; retrying")]
    private static partial void LogFollowerFailed(ILogger logger, Exception exception, string node, string partition);
}
