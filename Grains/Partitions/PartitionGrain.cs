using Granary.Records;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Orleans.Concurrency;
using Granary.Grains.Diagnostics;
using Granary.Grains.Hosting;
using Granary.Grains.Placement;
using Microsoft.Extensions.Options;
using Granary.Storage;
using Microsoft.Extensions.Logging;
using Granary.Grains.Replication;

namespace Granary.Grains.Partitions;

/// <summary>
/// Owns one partition log. Reentrant: appends keep arriving while an fsync is in flight; each append writes in
/// call order and then awaits the flush that covers it (group commit). Fetches see only confirmed messages and
/// long-poll for new ones. Only the Orleans wiring is here (calls, timers, storage, grain calls); the rules are plain
/// parts: <see cref="IdempotentAppender"/> (idempotent producers, message-id dedup), <see cref="PartitionLeadership"/>
/// (replication), <see cref="PartitionRetention"/> with <see cref="GroupPositionsLookup"/> (retention, overflow),
/// <see cref="AppendSignal"/> and <see cref="FetchSlice"/> (long-poll fetch), <see cref="CursorWakeup"/> (timed messages).
/// </summary>
[Reentrant, PartitionPlacement, GrainType("granary.partition")]
internal sealed partial class PartitionGrain(PartitionLogManager logs, IOptions<GranaryOptions> options, IOptions<ProducerStateOptions> producerOptions,
    [PersistentState("leader", Hosting.SiloBuilderExtensions.StorageName)] IPersistentState<PartitionLeaderState> leaderState, ClusterNodes nodes,
    TimeProvider time, ILogger<PartitionGrain> logger) : Grain, IPartitionGrain
{
    private const int FetchMaxBytes = 1 << 20;

    private string _topic = "";
    private int _partition;
    private TopicConfig? _config;
    private bool _retentionTimerStarted;
    private PartitionLog? _log;
    private Task<PartitionLog>? _opening;
    // Set by DeleteAsync: calls that were waiting on the closed log answer TopicNotFound, not ObjectDisposedException.
    private bool _deleted;
    private readonly AppendSignal _appended = new(time);
    // The parts below are set up on activation (they need the grain's key and factory).
    private PartitionRetention _retention = null!;
    private GroupPositionsLookup _groupPositions = null!;
    private PartitionLeadership _leadership = null!;
    private CursorWakeup _cursorWakeup = null!;
    private IGrainTimer? _placementTimer;
    // Of the log last opened: set before the log is published in _log and replaced only by the next open, so every call
    // that got the log finds it.
    private IdempotentAppender? _idempotence;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_topic, _partition) = GrainKeys.ParsePartition(this.GetPrimaryKeyString());
        _retention = new PartitionRetention(_topic, _partition, logger);
        _groupPositions = new GroupPositionsLookup(_retention, TopicGroupsAsync,
            async group => (await Cursor(group).DescribeAsync()).CommittedOffset, _topic, _partition, logger);
        _leadership = new PartitionLeadership(_topic, _partition, new PersistentLeaderStateStore(leaderState), Replica, this.DeactivateOnIdle, logger);
        _cursorWakeup = new CursorWakeup(TopicGroupsAsync, group => Cursor(group).WakeAsync(), _topic, _partition, logger);
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await _leadership.StopAsync();
        if (_log is { } log)
        {
            if (_idempotence is { } idempotence) await idempotence.CloseLogAndSaveAsync(() => logs.CloseAsync(log));
            else await logs.CloseAsync(log);
        }
        _log = null;
    }

    public async Task<AppendResult> AppendAsync(ProduceBatch batch)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            AppendResult result;
            try
            {
                result = await AppendCoreAsync(batch);
            }
            catch (ObjectDisposedException e)
            {
                throw Closed(e);
            }
            GranaryMetrics.RecordAppendDuration(_topic, started);
            return result;
        }
        catch (GranaryException e)
        {
            // Every refusal reaches the producer as a GranaryException, whichever check made it.
            GranaryMetrics.RecordRejected(_topic, e.Code, Math.Max(0, batch?.RecordCount ?? 0));
            throw;
        }
        finally
        {
            // Appended (the log wrote the bytes before AppendValidatedAsync returned) or refused: nothing reads the batch
            // any more. Only an array the call's deserialization rented goes back; a caller's own bytes stay its own.
            batch?.Bytes?.ReturnToPool();
        }
    }

    private async Task<AppendResult> AppendCoreAsync(ProduceBatch batch)
    {
        ProducedBatchValidator.CheckCall(batch);
        int count = batch.RecordCount;
        var log = await OpenLogAsync();
        var config = _config!;
        _leadership.EnsureEnoughReplicas(batch, config.MinReplicas);
        if (config.Overflow == OverflowPolicy.RejectPublish) await _groupPositions.EnsureLoadedAsync();
        var idempotence = _idempotence!;

        // From here to the hand-off to the log nothing awaits: the check of the batch, the producer and message-id
        // checks, the stamping and the state updates form one turn, so concurrent appends of this reentrant grain see
        // each other's effects, and the ids the check leaves in AppendScratch are this append's until it remembered them.
        var summary = ProducedBatchValidator.Validate(batch, batch.Records.Span, config.MaxMessageBytes, _topic);
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (idempotence.CheckSequence(batch) is { } original)
        {
            var repeated = await idempotence.RepeatedBatchResultAsync(batch, summary, original);
            await _leadership.WaitCommittedAsync(batch, log.EndOffset, options.Value.ReplicaAckTimeout);
            return repeated;
        }
        var duplicates = summary.IdCount > 0 ? idempotence.FindDuplicates(count, now, long.MaxValue) : null;
        int stored = duplicates?.StoredCount ?? count;
        if (stored == 0) return await idempotence.AllDuplicatesAsync(batch, duplicates!, now, Translate);

        long defaultTtl = config.DefaultTimeToLive is { } ttl ? (long)ttl.TotalMilliseconds : RecordBatchCodec.NoDefaultTtl;
        bool timed = summary.Timed || defaultTtl >= 0;
        long storedPayloadBytes = summary.PayloadBytes;
        // The caller handed the buffer over (the call is immutable, and the deserialized copy is this call's): stamped in
        // place. Only a batch that really holds message-id duplicates is rebuilt, without them.
        var encoded = duplicates is null
            ? MemoryMarshal.AsMemory(batch.Records)
            : IdempotentAppender.WithoutDuplicates(batch.Records.Span, duplicates, stored, out storedPayloadBytes);
        RecordBatchCodec.StampTime(encoded.Span, now, defaultTtl);
        _retention.EnsureRoom(log, config, encoded.Length);
        ValueTask<LogAppendResult> pending;
        try
        {
            // Validated above, byte for byte what is appended (the stamp rewrote only header fields and the CRC). A lone
            // append flushes in this turn when nothing else flushes (no thread hand-off before the confirm), unless
            // followers must copy it: they are told below, and copy while the local fsync runs.
            pending = log.AppendValidatedAsync(encoded, flushOnCallerThreadWhenIdle: config.Replicas <= 1);
        }
        catch (Exception e) when (e is LogWriteException or ArgumentException)
        {
            throw Translate(e);
        }
        _leadership.OnAppended(); // followers copy it while the local fsync runs
        // The log assigned the offsets under its lock before returning, and this grain is its only writer.
        long baseOffset = log.EndOffset - stored;
        duplicates?.AssignOffsets(baseOffset);
        var producerBatch = idempotence.Remember(batch, duplicates, baseOffset, now);

        LogAppendResult appended;
        try
        {
            appended = await pending;
        }
        catch (LogWriteException e)
        {
            var error = Translate(e);
            producerBatch?.Fail(error);
            throw error;
        }
        GranaryMetrics.RecordStored(_topic, stored, storedPayloadBytes);
        var result = duplicates?.ToResult(now) ?? new AppendResult(appended.BaseOffset, appended.RecordCount, now);
        producerBatch?.Complete(result);
        if (!_leadership.OnLocalDurable()) SignalAppended();
        if (timed) _ = _cursorWakeup.OnTimedAppend(appended.BaseOffset + appended.RecordCount);
        // The log cannot show that the last sequences of this batch were processed (they were not stored).
        if (batch.ProducerId != 0 && duplicates?.IsDuplicate[^1] == true) await idempotence.SaveAsync();
        // Stored either way (a retry of it is a duplicate, which waits for this same commit).
        await _leadership.WaitCommittedAsync(batch, appended.BaseOffset + appended.RecordCount, options.Value.ReplicaAckTimeout);
        return result;
    }

    public async Task<FetchResult> FetchAsync(long fromOffset, int maxMessages, TimeSpan maxWait)
    {
        if (fromOffset < 0) throw new GranaryException(GranaryErrorCode.InvalidArgument, $"Offset {fromOffset} is negative.");
        if (maxMessages < 1) throw new GranaryException(GranaryErrorCode.InvalidArgument, "maxMessages must be positive.");
        var log = await OpenLogAsync();
        long from = Math.Max(fromOffset, log.StartOffset);
        long? wokenAt = null;
        if (from >= ConfirmedEnd(log) && maxWait > TimeSpan.Zero)
        {
            wokenAt = await _appended.WaitForSignalAsync(maxWait);
        }
        if (_log != log) throw Closed(null); // deleted (or closed) while this fetch waited
        long end = ConfirmedEnd(log);
        from = Math.Max(from, log.StartOffset);
        if (from >= end) return new FetchResult(ReadOnlyMemory<byte>.Empty, from, from, log.StartOffset, end);

        LogReadResult read;
        try
        {
            read = await log.ReadAsync(from, FetchMaxBytes, maxMessages, end);
        }
        catch (ObjectDisposedException e)
        {
            throw Closed(e);
        }
        catch (LogCorruptedException e) when (e.ResumeOffset is { } resume && resume > from)
        {
            // Lost records (the log lists them as a gap): the reader learns of them and goes on after them, it is
            // never stuck on them nor skips them unknowingly.
            LogLostOffsetsFetched(logger, _topic, _partition, from, resume, e.Reason);
            return new FetchResult(ReadOnlyMemory<byte>.Empty, from, Math.Min(resume, end), log.StartOffset, end) { LostFromOffset = from };
        }
        catch (LogCorruptedException e)
        {
            LogCorrupt(logger, e, _topic, _partition);
            throw new GranaryException(GranaryErrorCode.CorruptData, $"Partition {_partition} of topic '{_topic}' has damaged data at offset {e.Offset}: {e.Reason}");
        }
        if (wokenAt is { } signaled) GranaryMetrics.RecordFetchWake(_topic, time.GetElapsedTime(signaled));
        using (read)
        {
            // The stored batches as they are, bounded to maxMessages records from `from`, in the read's pooled buffer,
            // handed over rather than copied: a caller in this silo gets this very result (FetchResult is immutable for
            // Orleans) and the cursor claims the buffer and returns it to the pool once no message over it is held. A
            // caller that does not claim it (or one in another process, which gets the bytes serialized) leaves the
            // array to the garbage collector: it never goes back to the pool while something may read it.
            var slice = FetchSlice.Of(read.Batches.Span, from, end, maxMessages);
            var batches = read.Batches[slice.Begin..slice.End];
            var buffer = batches.IsEmpty ? null : read.DetachBuffer();
            return new FetchResult(batches, from, slice.Next, log.StartOffset, end) { Buffer = buffer is null ? null : new FetchedBuffer(buffer) };
        }
    }

    /// <summary>
    /// The end of what producers were told is stored, which is all consumers may see: under
    /// <see cref="FlushPolicy.Always"/> what is fsynced (appends wait for it); under Interval and None appends are
    /// confirmed once written, so everything written (waiting for the next background fsync would hold deliveries
    /// back until an unrelated append woke the long poll).
    /// </summary>
    private long ConfirmedEnd(PartitionLog log) => _leadership.Committed ?? LocalConfirmedEnd(log);

    private static long LocalConfirmedEnd(PartitionLog log) =>
        log.Options.FlushPolicy == FlushPolicy.Always ? log.FlushedOffset : log.EndOffset;

    /// <summary>Wakes long-polling fetches: more confirmed (or, replicated, committed) records.</summary>
    private void SignalAppended() => _appended.Signal();

    public async Task<long> FindOffsetAsync(long timestampMs)
    {
        var log = await OpenLogAsync();
        try
        {
            return Math.Min(await log.FindOffsetByTimestampAsync(timestampMs), ConfirmedEnd(log));
        }
        catch (ObjectDisposedException e)
        {
            throw Closed(e);
        }
    }

    /// <summary>
    /// The answer for a call whose log was closed under it: the topic was deleted (TopicNotFound, as for any call
    /// after the delete), or the partition is deactivating (retriable).
    /// </summary>
    private GranaryException Closed(Exception? inner) => _deleted
        ? new GranaryException(GranaryErrorCode.TopicNotFound, $"Topic '{_topic}' was deleted.", inner)
        : new GranaryException(GranaryErrorCode.PartitionUnavailable, $"Partition {_partition} of topic '{_topic}' closed its log; retry.", inner);

    public Task ReportCommittedAsync(string group, long committedOffset)
    {
        _retention.ReportCommitted(group, committedOffset);
        return Task.CompletedTask;
    }

    public async Task<PartitionInfo> DescribeAsync()
    {
        var log = await OpenLogAsync();
        return new PartitionInfo(_partition, log.StartOffset, ConfirmedEnd(log), log.SizeInBytes, RuntimeIdentity)
        {
            Gaps = [.. log.Gaps.Select(g => new PartitionGap(g.StartOffset, g.EndOffset, g.Reason))],
            InSyncReplicas = _leadership.InSyncReplicas(nodes.LocalName),
        };
    }

    public async Task DeleteAsync(string? incarnation)
    {
        _deleted = true;
        if (_opening is not null)
        {
            try { await _opening; } catch (GranaryException) { }
        }
        await _leadership.StopAsync();
        await _leadership.DeleteReplicasAsync(incarnation, nodes.LocalName);
        if (_log is not null) await logs.CloseAsync(_log);
        _idempotence?.OnLogClosed();
        _log = null;
        _opening = null;
        _config = null;
        SignalAppended(); // long-polling fetches wake and answer TopicNotFound now, not after their wait
        await logs.DeleteAsync(_topic, incarnation, _partition);
        this.DeactivateOnIdle();
    }

    public async Task ApplyConfigAsync(TopicConfig config)
    {
        if (_opening is { IsCompleted: false } opening)
        {
            try { await opening; } catch (Exception e) when (e is not OperationCanceledException) { }
        }
        if (_log is not { } log) return; // not open: it reads the new settings when it opens
        if (_config?.Incarnation != config.Incarnation)
        {
            // The open log belongs to an earlier topic of this name: close it; the next call opens the new one's.
            this.DeactivateOnIdle();
            return;
        }
        _config = config;
        logs.Reconfigure(log, config);
        if (config.RetentionTime is not null || config.RetentionBytes is not null) StartRetentionTimer();
        await _leadership.ApplyConfigAsync(config);
    }

    private void StartRetentionTimer()
    {
        if (_retentionTimerStarted) return;
        _retentionTimerStarted = true;
        this.RegisterGrainTimer(OnRetentionTimerAsync, options.Value.RetentionCheckInterval, options.Value.RetentionCheckInterval);
    }

    private Task<PartitionLog> OpenLogAsync() =>
        _log is not null ? Task.FromResult(_log) : (_opening ??= OpenCoreAsync());

    private async Task<PartitionLog> OpenCoreAsync()
    {
        try
        {
            _config = await GrainFactory.GetGrain<ITopicGrain>(_topic).GetConfigAsync();
            if (_partition < 0 || _partition >= _config.Partitions)
                throw new GranaryException(GranaryErrorCode.InvalidArgument, $"Topic '{_topic}' has no partition {_partition}.");
            PartitionLog log;
            try
            {
                log = await logs.OpenAsync(_topic, _partition, _config);
            }
            catch (IOException e) when (OpenFileExhaustion.Observe(e, time))
            {
                // Retriable: handles come back as idle partitions deactivate; never a crash or an untyped error.
                throw new GranaryException(GranaryErrorCode.PartitionUnavailable,
                    $"Partition {_partition} of topic '{_topic}' cannot open its files now: the silo has too many open files. Retry later.");
            }
            try
            {
                if (_config.Replicas > 1) await BecomeLeaderAsync(log, _config);
                _idempotence = await IdempotentAppender.OpenAsync(log, producerOptions.Value.ProducerStateRetention, _config.DedupWindow,
                    time, logger, _topic, _partition);
            }
            catch
            {
                await _leadership.StopAsync();
                await logs.CloseAsync(log);
                throw;
            }
            _log = log;
            _deleted = false; // created again under the name: this activation serves the new incarnation
            var snapshotEvery = producerOptions.Value.SnapshotInterval;
            this.RegisterGrainTimer(OnProducerStateTimerAsync, snapshotEvery, snapshotEvery);
            if (_config.RetentionTime is not null || _config.RetentionBytes is not null)
            {
                if (!RejectsOnOverflow) _retention.Run(log, long.MaxValue, 0); // RejectPublish waits for the groups' positions
                StartRetentionTimer();
            }
            return log;
        }
        catch
        {
            _opening = null; // let the next call try again
            throw;
        }
    }

    private bool RejectsOnOverflow => _config?.Overflow == OverflowPolicy.RejectPublish;

    private async Task OnRetentionTimerAsync()
    {
        if (_log is not { } log || _config is not { } config) return;
        if (RejectsOnOverflow) await _groupPositions.RefreshOrKeepAsync();
        if (_log == log) _retention.RunScheduled(log, _config ?? config);
    }

    private Task OnProducerStateTimerAsync() =>
        _log is not null && _idempotence is { } idempotence ? idempotence.ExpireIdleAndSaveAsync() : Task.CompletedTask;

    /// <summary>Becomes the leader of a replicated partition (see <see cref="PartitionLeadership.BecomeLeaderAsync"/>) and checks its placement from then on.</summary>
    private async Task BecomeLeaderAsync(PartitionLog log, TopicConfig config)
    {
        string self = nodes.LocalName;
        await _leadership.BecomeLeaderAsync(log, logs.EpochsOf(log), config, self, nodes.ReplicasFor(self, config.Replicas),
            () => LocalConfirmedEnd(log), SignalAppended);
        _placementTimer ??= this.RegisterGrainTimer(CheckPlacementAsync, PlacementCheckInterval, PlacementCheckInterval);
    }

    /// <summary>
    /// Moves leadership when the cluster changed (a silo joined or came back): the partition belongs where the placement
    /// director now puts it, with the replicas <see cref="ClusterNodes.ReplicasFor"/> now names. Deactivating hands
    /// over cleanly; the next call activates the partition there, which reconciles the replicas.
    /// </summary>
    private Task CheckPlacementAsync()
    {
        var silos = nodes.Active().Values.ToList();
        if (silos.Count == 0 || !_leadership.Leads) return Task.CompletedTask;
        bool moved = !PartitionPlacementDirector.Choose(_topic, _partition, silos).Equals(nodes.LocalAddress);
        // A silo came back or joined: the replica set this leader started with is no longer the one it should have.
        var wanted = nodes.ReplicasFor(nodes.LocalName, _config!.Replicas).Where(n => n != nodes.LocalName);
        if (_leadership.ShouldHandOver(moved, wanted)) this.DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public Task WatchStoppedAsync(string group, long fromOffset)
    {
        // A timed message appended after the cursor's last look must not wait for the next timed append.
        _ = _cursorWakeup.OnWatchStopped(group, fromOffset);
        return Task.CompletedTask;
    }

    private Task<string[]> TopicGroupsAsync() => GrainFactory.GetGrain<ITopicGrain>(_topic).GetGroupsAsync();

    private IPartitionCursorGrain Cursor(string group) => GrainFactory.GetGrain<IPartitionCursorGrain>(GrainKeys.Cursor(_topic, group, _partition));

    private IPartitionReplicaGrain Replica(string node) => GrainFactory.GetGrain<IPartitionReplicaGrain>(ReplicaKeys.Of(_topic, _partition, node));

    private GranaryException Translate(Exception e)
    {
        if (e is LogWriteException write)
        {
            // The log refuses writes until reopened: deactivate so the next call reopens (and recovers) it.
            this.DeactivateOnIdle();
            return write.IsDiskFull
                ? new GranaryException(GranaryErrorCode.DiskFull, $"The disk of partition {_partition} of topic '{_topic}' is full.")
                : new GranaryException(GranaryErrorCode.PartitionUnavailable, $"Partition {_partition} of topic '{_topic}' failed to write: {write.Message}");
        }
        return new GranaryException(GranaryErrorCode.InvalidArgument, e.Message);
    }


    private static readonly TimeSpan PlacementCheckInterval = TimeSpan.FromSeconds(10);

    [LoggerMessage(2006, LogLevel.Warning, "A fetch of partition {Partition} of topic {Topic} reached lost offsets [{FromOffset}, {ResumeOffset}): {Reason}; the reader skips them")]
    private static partial void LogLostOffsetsFetched(ILogger logger, string topic, int partition, long fromOffset, long resumeOffset, string reason);

    [LoggerMessage(2001, LogLevel.Error, "Damaged data in partition {Partition} of topic {Topic}")]
    private static partial void LogCorrupt(ILogger logger, Exception exception, string topic, int partition);
}
