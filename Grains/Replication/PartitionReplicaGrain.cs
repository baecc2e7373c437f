using Granary.Grains.Hosting;
using Granary.Grains.Partitions;
using Granary.Storage;
using Microsoft.Extensions.Options;

namespace Granary.Grains.Replication;

/// <summary>
/// A follower's copy of a partition log on this silo's disk. It writes only what its leader sends and only for the
/// highest leader epoch it has seen (promised in the log's <see cref="LeaderEpochs"/>, which survive restarts).
/// </summary>
[ReplicaPlacement, GrainType("granary.replica")]
internal sealed class PartitionReplicaGrain(PartitionLogManager logs, IOptions<GranaryOptions> options) : Grain, IPartitionReplicaGrain
{
    private string _topic = "";
    private int _partition;
    private PartitionLog? _log;
    private LeaderEpochs? _epochs;
    private bool _retentionTimerStarted;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_topic, _partition, _) = ReplicaKeys.Parse(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_log is not null) await logs.CloseAsync(_log);
        _log = null;
    }

    public async Task<ReplicaState> FenceAsync(long leaderEpoch) => State(await OpenAsync(leaderEpoch));

    public async Task<ReplicaState> AppendAsync(long leaderEpoch, long batchEpoch, long baseOffset, byte[] batches)
    {
        var log = await OpenAsync(leaderEpoch);
        if (log.EndOffset != baseOffset) return State(log);
        _epochs!.Begin(batchEpoch, baseOffset);
        if (batches.Length == 0) return State(log);
        try
        {
            await ReplicaCopy.AppendAsync(log, batches);
        }
        catch (Exception e) when (e is LogWriteException or ArgumentException or OverflowException)
        {
            if (e is LogWriteException) this.DeactivateOnIdle(); // reopen (and recover) on the next call
            throw new GranaryException(GranaryErrorCode.PartitionUnavailable, $"Replica of partition {_partition} of topic '{_topic}' failed to write: {e.Message}");
        }
        return State(log);
    }

    public async Task<ReplicaState> TruncateToAgreementAsync(long leaderEpoch, EpochEnd leaderEnd)
    {
        var log = await OpenAsync(leaderEpoch);
        ReplicaCopy.TruncateToAgreement(log, _epochs!, leaderEnd);
        return State(log);
    }

    public async Task<ReplicaState> ResetAsync(long leaderEpoch, long offset)
    {
        var log = await OpenAsync(leaderEpoch);
        if (offset > log.EndOffset)
        {
            log.ResetTo(offset);
            _epochs!.TruncateFrom(0);
        }
        return State(log);
    }

    public async Task<EpochEnd> EndOfEpochAsync(long leaderEpoch, long epoch)
    {
        var log = await OpenAsync(leaderEpoch);
        var (floor, end) = _epochs!.Floor(epoch, log.EndOffset);
        return new EpochEnd(floor, end);
    }

    public async Task<ReplicaRead> ReadAsync(long leaderEpoch, long fromOffset, int maxBytes) =>
        await ReplicaCopy.ReadAsync(await OpenAsync(leaderEpoch), _epochs!, fromOffset, maxBytes);

    public async Task DeleteAsync(string? incarnation)
    {
        if (_log is not null) await logs.CloseAsync(_log);
        _log = null;
        // The leader's incarnation: the copy lives in the same layout as the leader's log (PartitionPaths).
        await logs.DeleteAsync(_topic, incarnation, _partition);
        this.DeactivateOnIdle();
    }

    public Task ApplyConfigAsync(TopicConfig config)
    {
        if (_log is null) return Task.CompletedTask; // not open: it reads the new settings when it opens
        logs.Reconfigure(_log, config);
        StartRetentionTimer(config);
        return Task.CompletedTask;
    }

    private async Task<PartitionLog> OpenAsync(long leaderEpoch)
    {
        if (_log is null)
        {
            var config = await GrainFactory.GetGrain<ITopicGrain>(_topic).GetConfigAsync();
            (_log, _epochs) = await logs.OpenWithEpochsAsync(_topic, _partition, config);
            StartRetentionTimer(config);
        }
        if (!_epochs!.TryPromise(leaderEpoch))
            throw new GranaryException(GranaryErrorCode.NotLeader,
                $"Partition {_partition} of topic '{_topic}' has a newer leader (epoch {_epochs.Promised}) than the caller (epoch {leaderEpoch}).");
        return _log;
    }

    private void StartRetentionTimer(TopicConfig config)
    {
        // Under RejectPublish only the leader may delete (it knows the groups' positions); a copy sharing its log
        // on this silo must not, so copies keep everything and the leader's retention is the one that counts.
        if (_retentionTimerStarted || (config.RetentionTime is null && config.RetentionBytes is null) || config.Overflow == OverflowPolicy.RejectPublish)
            return;
        _retentionTimerStarted = true;
        this.RegisterGrainTimer(() => { _log?.ApplyRetention(); return Task.CompletedTask; },
            options.Value.RetentionCheckInterval, options.Value.RetentionCheckInterval);
    }

    private ReplicaState State(PartitionLog log) => new(log.StartOffset, log.EndOffset, _epochs!.LastEpoch);
}
