using Granary.Grains.Replication;
using Granary.Storage;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Partitions;

/// <summary>
/// A replicated partition's leadership: taking the next epoch and fencing every holder with it, making the local log
/// agree with the most advanced reachable copy, running the <see cref="PartitionReplicator"/> that streams to the
/// followers and commits, refusing appends it cannot confirm, and deleting or reconfiguring the copies. The Orleans it
/// needs comes in narrowed: the stored leader state (<see cref="ILeaderStateStore"/>), the replica of a node (a grain
/// reference in the grain, a fake in tests) and deactivation. Not thread-safe: the partition grain's turns serialise
/// every use. Unreplicated partitions never lead: every member then answers as for a single copy.
/// </summary>
/// <param name="topic">The partition's topic.</param>
/// <param name="partition">The partition.</param>
/// <param name="store">Where the leader state is kept.</param>
/// <param name="replica">The replica of the partition on a node.</param>
/// <param name="deactivate">Hands the partition over (the grain deactivates; the next call activates it again).</param>
/// <param name="logger">Where leadership and unreachable holders are reported.</param>
internal sealed partial class PartitionLeadership(string topic, int partition, ILeaderStateStore store,
    Func<string, IPartitionReplicaGrain> replica, Action deactivate, ILogger logger)
{
    private static readonly TimeSpan ReconcileTimeout = TimeSpan.FromSeconds(10);

    private PartitionReplicator? _replicator;

    /// <summary>True while this partition leads replicas (after <see cref="BecomeLeaderAsync"/>, until <see cref="StopAsync"/>).</summary>
    public bool Leads => _replicator is not null;

    /// <summary>Records below this are on enough replicas to be seen; null when the partition does not lead replicas.</summary>
    public long? Committed => _replicator?.Committed;

    /// <summary>The followers this leader streams to (empty when it does not lead).</summary>
    public IEnumerable<string> Followers => _replicator?.Followers.Select(f => f.Node) ?? [];

    /// <summary>
    /// Fails an append at once when this leader was fenced off by a newer one, or, for an <see cref="Acks.All"/> append,
    /// when too few replicas are reachable to confirm it.
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.PartitionUnavailable"/> (deposed) or <see cref="GranaryErrorCode.NotEnoughReplicas"/>.</exception>
    public void EnsureEnoughReplicas(ProduceBatch batch, int minReplicas)
    {
        if (_replicator is not { } replicator) return;
        if (replicator.Deposed || replicator.Epochs.Promised > replicator.Epoch) throw Unavailable("a newer leader took over");
        if (batch.Acks != Acks.All) return;
        if (replicator.HealthyReplicas < minReplicas)
            throw new GranaryException(GranaryErrorCode.NotEnoughReplicas,
                $"Partition {partition} of topic '{topic}' has {replicator.HealthyReplicas} reachable replicas; {minReplicas} must confirm a batch.");
    }

    /// <summary>
    /// For an <see cref="Acks.All"/> batch of a leading partition, completes once <paramref name="endOffset"/> is
    /// committed (fails with <see cref="GranaryErrorCode.NotEnoughReplicas"/> after <paramref name="timeout"/>); otherwise at once.
    /// </summary>
    public Task WaitCommittedAsync(ProduceBatch batch, long endOffset, TimeSpan timeout) =>
        _replicator is { } replicator && batch.Acks == Acks.All ? replicator.WaitCommittedAsync(endOffset, timeout) : Task.CompletedTask;

    /// <summary>A batch was written to the local log: followers may copy it while the local fsync runs.</summary>
    public void OnAppended() => _replicator?.OnAppended();

    /// <summary>
    /// The local append became durable: the commit may advance. False when the partition does not lead (the caller
    /// then wakes its readers itself: what is durable locally is what they may see).
    /// </summary>
    public bool OnLocalDurable()
    {
        if (_replicator is not { } replicator) return false;
        replicator.OnLocalDurable();
        return true;
    }

    /// <summary>
    /// Becomes the leader: takes the next epoch (the store's write fails if another activation took it first), fences
    /// every holder with it, makes the local log agree with the most advanced reachable copy (highest last epoch, then
    /// longest: it holds every committed record), and starts the followers.
    /// </summary>
    /// <param name="log">The local log, just opened.</param>
    /// <param name="epochs">Its leader epochs.</param>
    /// <param name="config">The topic's settings (replicas wanted, and how many must hold a record).</param>
    /// <param name="self">This node.</param>
    /// <param name="targets">The nodes that should hold the partition now, this one among them.</param>
    /// <param name="localConfirmedEnd">What the local log confirmed (its own share of the commit).</param>
    /// <param name="onCommitted">The commit advanced: readers may see more.</param>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.PartitionUnavailable"/> when a newer leader took over or
    /// the copy to agree with fell short; <see cref="GranaryErrorCode.NotEnoughReplicas"/> when too few previous holders are
    /// reachable for one of them to hold every committed record.</exception>
    public async Task BecomeLeaderAsync(PartitionLog log, LeaderEpochs epochs, TopicConfig config, string self, IReadOnlyList<string> targets,
        Func<long> localConfirmedEnd, Action onCommitted)
    {
        var state = store.State;
        state.Epoch = LeaderReconciliation.NextEpoch(state.Epoch, epochs.Promised);
        await store.WriteAsync();
        long epoch = state.Epoch;
        if (!epochs.TryPromise(epoch)) throw Unavailable("a newer leader took over");

        var holders = state.Holders.Union(targets, StringComparer.Ordinal).ToList();
        var others = holders.Where(n => n != self).ToList();
        var answers = await Task.WhenAll(others.Select(async node =>
        {
            try
            {
                return (node, (ReplicaState?)await replica(node).FenceAsync(epoch).WaitAsync(ReconcileTimeout));
            }
            catch (Exception e)
            {
                LogHolderUnreachable(logger, e, node, topic, partition);
                return (node, (ReplicaState?)null);
            }
        }));
        var reachable = answers.Where(a => a.Item2 is not null).ToDictionary(a => a.node, a => a.Item2!);

        // Every committed record is on MinInSyncReplicas holders: with this many reachable, one of them has it.
        var previous = state.Holders;
        if (!LeaderReconciliation.EnoughHoldersReachable(previous, self, reachable.Keys.ToHashSet(StringComparer.Ordinal), config.MinReplicas, out int reachablePrevious))
            throw new GranaryException(GranaryErrorCode.NotEnoughReplicas,
                $"Partition {partition} of topic '{topic}': only {reachablePrevious} of its {previous.Count} replica holders are reachable.");

        var local = new ReplicaState(log.StartOffset, log.EndOffset, epochs.LastEpoch);
        var (truthNode, truth) = LeaderReconciliation.MostAdvanced(self, local, reachable);
        if (truthNode != self)
        {
            var source = replica(truthNode);
            await LeaderCatchUp.RunAsync(log, epochs, truth, e => source.EndOfEpochAsync(epoch, e), (from, bytes) => source.ReadAsync(epoch, from, bytes));
        }

        epochs.Begin(epoch, log.EndOffset);
        state.Holders = holders;
        await store.WriteAsync();

        // Nothing is committed until the followers report where they stand; the log's own flushed end is the floor
        // only for a partition that needs no other replica.
        var replicator = new PartitionReplicator($"{topic}/{partition}", epoch, log, epochs, config.MinReplicas,
            committed: config.MinReplicas <= 1 ? log.FlushedOffset : log.StartOffset,
            localConfirmedEnd, onCommitted, deactivate, logger);
        replicator.Start(targets.Where(n => n != self).Select(n => (n, replica(n), reachable.ContainsKey(n))));
        _replicator = replicator;
        LogLeader(logger, topic, partition, epoch, string.Join(",", targets));
    }

    /// <summary>
    /// Whether the leader should hand over: the placement now puts the partition elsewhere, or the followers it should
    /// have (<paramref name="wantedFollowers"/>) are not the ones it started with (a silo came back or joined).
    /// False when it does not lead.
    /// </summary>
    public bool ShouldHandOver(bool placedElsewhere, IEnumerable<string> wantedFollowers) =>
        _replicator is { } replicator && LeaderReconciliation.ShouldHandOver(placedElsewhere, wantedFollowers, replicator.Followers.Select(f => f.Node));

    /// <summary>
    /// The replicas in sync now, <paramref name="self"/> first: those of this epoch holding every committed record;
    /// null when the partition does not lead replicas.
    /// </summary>
    public string[]? InSyncReplicas(string self) => _replicator is { } replicator
        ? [self, .. replicator.Followers.Where(f => f.Healthy && f.FollowerEpoch == replicator.Epoch && f.AckedEnd >= replicator.Committed).Select(f => f.Node)]
        : null;

    /// <summary>Stops streaming (deactivation, deletion, or a failed open); waiting appends fail as unconfirmed.</summary>
    public async Task StopAsync()
    {
        if (_replicator is null) return;
        await _replicator.StopAsync();
        _replicator = null;
    }

    /// <summary>
    /// Passes the topic's new settings to the followers. A copy that misses the change keeps its old limits until it
    /// reopens; the leader's retention is the one that bounds what consumers read, so this is best effort.
    /// </summary>
    public async Task ApplyConfigAsync(TopicConfig config)
    {
        if (_replicator is not { } replicator) return;
        await Task.WhenAll(replicator.Followers.Select(async follower =>
        {
            try { await replica(follower.Node).ApplyConfigAsync(config); }
            catch (Exception e) when (e is not OperationCanceledException) { LogReplicaConfigFailed(logger, e, follower.Node, topic, partition); }
        }));
    }

    /// <summary>
    /// Deletes every other holder's copy (best effort: an unreachable holder is reported) and the leader state. Nothing
    /// when the partition was never replicated.
    /// </summary>
    public async Task DeleteReplicasAsync(string? incarnation, string self)
    {
        if (store.State.Holders.Count == 0) return; // never replicated
        var others = store.State.Holders.Where(n => n != self);
        await Task.WhenAll(others.Select(async node =>
        {
            try { await replica(node).DeleteAsync(incarnation).WaitAsync(ReconcileTimeout); }
            catch (Exception e) { LogHolderUnreachable(logger, e, node, topic, partition); }
        }));
        await store.ClearAsync();
    }

    private GranaryException Unavailable(string why) => new(GranaryErrorCode.PartitionUnavailable, $"Partition {partition} of topic '{topic}' is unavailable: {why}; retry.");

    [LoggerMessage(2002, LogLevel.Information, "Partition {Topic}/{Partition} leads at epoch {Epoch} with replicas {Replicas}")]
    private static partial void LogLeader(ILogger logger, string topic, int partition, long epoch, string replicas);

    [LoggerMessage(2003, LogLevel.Warning, "Replica holder {Node} of partition {Topic}/{Partition} is unreachable")]
    private static partial void LogHolderUnreachable(ILogger logger, Exception exception, string node, string topic, int partition);

    [LoggerMessage(2003, LogLevel.Warning, "Replica {Node} of partition {Partition} of topic {Topic} did not take the topic's new settings")]
    private static partial void LogReplicaConfigFailed(ILogger logger, Exception exception, string node, string topic, int partition);
}
