using Granary.Grains.Placement;
using Granary.Grains.Replication;
using Granary.Storage;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Partitions;

/// <summary>A replicated partition's leader state, kept in grain storage (PostgreSQL in cluster mode).</summary>
[GenerateSerializer, Alias("granary.PartitionLeaderState")]
internal sealed class PartitionLeaderState
{
    /// <summary>Bumped by every activation of the leader; fences older leaders off the replicas.</summary>
    [Id(0)] public long Epoch { get; set; }

    /// <summary>Every node that may hold a copy of the log: consulted when a new leader reconciles.</summary>
    [Id(1)] public List<string> Holders { get; set; } = [];
}

internal sealed partial class PartitionGrain
{
    private PartitionReplicator? _replicator;
    private IGrainTimer? _placementTimer;

    private bool RequiresAllReplicas(ProduceBatch batch) => _replicator is not null && batch.Acks == Acks.All;

    /// <summary>Fails an <see cref="Acks.All"/> append at once when too few replicas are reachable to confirm it.</summary>
    private void EnsureEnoughReplicas(ProduceBatch batch)
    {
        if (_replicator is null) return;
        if (_replicator.Deposed || _replicator.Epochs.Promised > _replicator.Epoch) throw Unavailable("a newer leader took over");
        if (batch.Acks != Acks.All) return;
        int needed = _config!.MinReplicas;
        if (_replicator!.HealthyReplicas < needed)
            throw new GranaryException(ErrorCode.NotEnoughReplicas,
                $"Partition {_partition} of topic '{_topic}' has {_replicator.HealthyReplicas} reachable replicas; {needed} must confirm a batch.");
    }

    /// <summary>
    /// Becomes the leader of a replicated partition: takes the next epoch (the storage write fails if another
    /// activation took it first), fences every holder with it, makes the local log agree with the most advanced
    /// reachable copy (highest last epoch, then longest: it holds every committed record), and starts the followers.
    /// </summary>
    private async Task BecomeLeaderAsync(PartitionLog log, TopicConfig config)
    {
        var epochs = logs.EpochsOf(log);
        var state = leaderState.State;
        state.Epoch = LeaderReconciliation.NextEpoch(state.Epoch, epochs.Promised);
        await leaderState.WriteStateAsync();
        long epoch = state.Epoch;
        if (!epochs.TryPromise(epoch)) throw Unavailable("a newer leader took over");

        string self = nodes.LocalName;
        var targets = nodes.ReplicasFor(self, config.Replicas);
        var holders = state.Holders.Union(targets, StringComparer.Ordinal).ToList();
        var others = holders.Where(n => n != self).ToList();
        var answers = await Task.WhenAll(others.Select(async node =>
        {
            try
            {
                return (node, (ReplicaState?)await Replica(node).FenceAsync(epoch).WaitAsync(ReconcileTimeout));
            }
            catch (Exception e)
            {
                LogHolderUnreachable(logger, e, node, _topic, _partition);
                return (node, (ReplicaState?)null);
            }
        }));
        var reachable = answers.Where(a => a.Item2 is not null).ToDictionary(a => a.node, a => a.Item2!);

        // Every committed record is on MinInSyncReplicas holders: with this many reachable, one of them has it.
        var previous = state.Holders;
        if (!LeaderReconciliation.EnoughHoldersReachable(previous, self, reachable.Keys.ToHashSet(StringComparer.Ordinal), config.MinReplicas, out int reachablePrevious))
            throw new GranaryException(ErrorCode.NotEnoughReplicas,
                $"Partition {_partition} of topic '{_topic}': only {reachablePrevious} of its {previous.Count} replica holders are reachable.");

        var local = new ReplicaState(log.StartOffset, log.EndOffset, epochs.LastEpoch);
        var (truthNode, truth) = LeaderReconciliation.MostAdvanced(self, local, reachable);
        if (truthNode != self)
        {
            var source = Replica(truthNode);
            await LeaderCatchUp.RunAsync(log, epochs, truth, e => source.EndOfEpochAsync(epoch, e), (from, bytes) => source.ReadAsync(epoch, from, bytes));
        }

        epochs.Begin(epoch, log.EndOffset);
        state.Holders = holders;
        await leaderState.WriteStateAsync();

        // Nothing is committed until the followers report where they stand; the log's own flushed end is the floor
        // only for a partition that needs no other replica.
        var replicator = new PartitionReplicator($"{_topic}/{_partition}", epoch, log, epochs, config.MinReplicas,
            committed: config.MinReplicas <= 1 ? log.FlushedOffset : log.StartOffset,
            () => LocalConfirmedEnd(log), SignalAppended, this.DeactivateOnIdle, logger);
        replicator.Start(targets.Where(n => n != self).Select(n => (n, Replica(n), reachable.ContainsKey(n))));
        _replicator = replicator;
        _placementTimer ??= this.RegisterGrainTimer(CheckPlacementAsync, PlacementCheckInterval, PlacementCheckInterval);
        LogLeader(logger, _topic, _partition, epoch, string.Join(",", targets));
    }

    /// <summary>
    /// Moves leadership when the cluster changed (a silo joined or came back): the partition belongs where the placement
    /// director now puts it, with the replicas <see cref="ClusterNodes.ReplicasFor"/> now names. Deactivating hands
    /// over cleanly; the next call activates the partition there, which reconciles the replicas.
    /// </summary>
    private Task CheckPlacementAsync()
    {
        var silos = nodes.Active().Values.ToList();
        if (silos.Count == 0 || _replicator is not { } replicator) return Task.CompletedTask;
        bool moved = !PartitionPlacementDirector.Choose(_topic, _partition, silos).Equals(nodes.LocalAddress);
        // A silo came back or joined: the replica set this leader started with is no longer the one it should have.
        var wanted = nodes.ReplicasFor(nodes.LocalName, _config!.Replicas).Where(n => n != nodes.LocalName);
        if (LeaderReconciliation.ShouldHandOver(moved, wanted, replicator.Followers.Select(f => f.Node))) this.DeactivateOnIdle();
        return Task.CompletedTask;
    }

    private async Task StopReplicationAsync()
    {
        if (_replicator is null) return;
        await _replicator.StopAsync();
        _replicator = null;
    }

    private async Task DeleteReplicasAsync(string? incarnation)
    {
        if (leaderState.State.Holders.Count == 0) return; // never replicated
        var others = leaderState.State.Holders.Where(n => n != nodes.LocalName);
        await Task.WhenAll(others.Select(async node =>
        {
            try { await Replica(node).DeleteAsync(incarnation).WaitAsync(ReconcileTimeout); }
            catch (Exception e) { LogHolderUnreachable(logger, e, node, _topic, _partition); }
        }));
        await leaderState.ClearStateAsync();
    }

    private IPartitionReplicaGrain Replica(string node) => GrainFactory.GetGrain<IPartitionReplicaGrain>(ReplicaKeys.Of(_topic, _partition, node));

    private GranaryException Unavailable(string why) => new(ErrorCode.PartitionUnavailable, $"Partition {_partition} of topic '{_topic}' is unavailable: {why}; retry.");

    private static readonly TimeSpan ReconcileTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PlacementCheckInterval = TimeSpan.FromSeconds(10);

    [LoggerMessage(2002, LogLevel.Information, "Partition {Topic}/{Partition} leads at epoch {Epoch} with replicas {Replicas}")]
    private static partial void LogLeader(ILogger logger, string topic, int partition, long epoch, string replicas);

    [LoggerMessage(2003, LogLevel.Warning, "Replica holder {Node} of partition {Topic}/{Partition} is unreachable")]
    private static partial void LogHolderUnreachable(ILogger logger, Exception exception, string node, string topic, int partition);
}
