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
                if (from >= log.EndOffset)
                {
                    await owner.WaitForAppendAsync(from);
                    continue;
                }
                var read = await ReplicaCopy.ReadAsync(log, owner.Epochs, from, MaxCopyBytes);
                if (read.Batches.Length == 0) { synced = false; continue; }
                var state = await replica.AppendAsync(owner.Epoch, read.Epoch, from, read.Batches);
                if (state.EndOffset != read.NextOffset) { synced = false; continue; }
                AckedEnd = state.EndOffset;
                Healthy = true;
                backoff = TimeSpan.FromMilliseconds(100);
                owner.OnFollowerProgress();
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

    private async Task SyncAsync()
    {
        var log = owner.Log;
        var state = await replica.FenceAsync(owner.Epoch);
        while (true)
        {
            long agreed = owner.Epochs.EndOf(state.LastEpoch, log.EndOffset);
            if (state.EndOffset <= agreed) break;
            var truncated = await replica.TruncateAsync(owner.Epoch, agreed);
            if (truncated.EndOffset >= state.EndOffset) throw new InvalidOperationException($"Replica on {Node} did not truncate below {state.EndOffset}.");
            state = truncated;
        }
        if (state.EndOffset < log.StartOffset) state = await replica.ResetAsync(owner.Epoch, log.StartOffset);
        AckedEnd = state.EndOffset;
    }

    [LoggerMessage(2101, LogLevel.Warning, "Follower {Node} of partition {Partition} is unreachable or failed; retrying")]
    private static partial void LogFollowerFailed(ILogger logger, Exception exception, string node, string partition);
}
