using System.Runtime.InteropServices;
using System.Text;
using Orleans.Concurrency;
using Granary.Grains.Delivery;
using Granary.Grains.Diagnostics;
using Granary.Grains.Hosting;
using Granary.Grains.Hosting.StateFiles;
using Granary.Grains.Placement;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Granary.Records;
using Granary.Storage;

namespace Granary.Grains.Cursors;

/// <summary>
/// One consumer group on one partition, as Orleans wiring around <see cref="DeliveryState"/> (which holds every
/// delivery rule): calls, the fetch loop that fills it from the partition, a timer that runs its clock-driven work
/// while anything is pending, a reminder that reactivates the cursor after a deactivation or restart while anything is
/// (delivered and unacknowledged, delayed, or expiring), saving its state, writing dead letters, metrics and logs.
/// Reentrant: a long-polling pull does not hold up acks.
/// </summary>
[Reentrant, PartitionPlacement, GrainType("granary.cursor")]
internal sealed partial class PartitionCursorGrain(
    [PersistentState("cursor", "granary")] IPersistentState<CursorState> state,
    [PersistentState("cursorIncarnation", "granary")] IPersistentState<CursorIncarnation> incarnation,
    ICursorStateStore stateStore,
    IOptions<GranaryOptions> options,
    StateDamageLog damageLog,
    TimeProvider time,
    ILogger<PartitionCursorGrain> logger) : Grain, IPartitionCursorGrain, IRemindable
{
    private const string ReminderName = "redelivery";
    private const int DeadLettersPerWrite = 500;
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);
    private static readonly byte[] RedriveGroupName = StoredBatches.NameBytes(GranaryHeaders.RedriveGroup);

    private readonly TimeProvider _time = time;
    private readonly DeliveryState _delivery = new(time);
    // The leased records and their leases of one pull, kept from pull to pull (a pull takes in one turn, never
    // interleaved): no garbage per message besides the answer itself.
    private readonly List<BufferedMessage> _taking = [];
    private readonly List<LeasedRecord> _leasing = [];

    private string _topic = "", _group = "";
    private int _partition;
    private byte[]? _groupUtf8;
    private GroupSettings _settings = new();
    private DeadLetterWriter? _deadLetterWriter;
    private long _partitionEnd, _reportedCommitted = -1;
    // Raised by a seek: fetches and dead-letter writes started before it must not touch the new position.
    private int _epoch;
    // Reading ahead with no member pulling, so that expiring and delayed messages are noticed in time.
    private bool _watching;
    private bool _deleted, _deactivated;
    // Only a RejectPublish partition uses the committed offset (to hold retention back): no call per save otherwise.
    private bool _reportCommitted;
    private Task? _initializing, _fetching, _refilling, _deadLettering;
    private TaskCompletionSource _availableSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IGrainTimer? _tickTimer;
    private IGrainReminder? _reminder;
    private ConsumerLagSlot? _lagSlot;
    // Loads and saves the delivery state in the cursor's state log; set at activation (every call comes after it).
    private CursorStatePersistence _persistence = null!;

    private IPartitionGrain Partition => GrainFactory.GetGrain<IPartitionGrain>(GrainKeys.Partition(_topic, _partition));

    private IConsumerGroupGrain GroupGrain => GrainFactory.GetGrain<IConsumerGroupGrain>(GrainKeys.Group(_topic, _group));

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_topic, _group, _partition) = GrainKeys.ParseCursor(this.GetPrimaryKeyString());
        _deadLetterWriter = new DeadLetterWriter(GrainFactory, _time, _topic, _group, _partition);
        var log = await stateStore.OpenAsync(this.GetPrimaryKeyString());
        _persistence = new CursorStatePersistence(log, new EarlierCursorGrainState(state), _delivery,
            async () => (await Partition.DescribeAsync()).StartOffset, AfterSaveAsync, damageLog, _time, logger, _topic, _group, _partition);
        await CursorIncarnationCheck.ForgetEarlierIncarnationAsync(GrainFactory, state, incarnation, log, logger, _topic, _group, _partition);
        await _persistence.LoadAsync();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The next activation (here or on another silo) reports this partition's lag from then on.
        _deactivated = true;
        _lagSlot?.Dispose();
        _lagSlot = null;
        if (_persistence is null) return; // the activation failed before its state log was open
        await _persistence.FlushAsync();
        _persistence.Close();
    }

    public async Task<PullResult> PullAsync(string memberId, int maxMessages, TimeSpan lease, TimeSpan maxWait)
    {
        if (maxMessages < 1 || lease <= TimeSpan.Zero)
            throw new GranaryException(GranaryErrorCode.InvalidArgument, "A pull needs a positive message count and lease.");
        await EnsureInitializedAsync();
        var deadline = _time.GetUtcNow() + maxWait;
        while (true)
        {
            if (_delivery.HasDeparted(memberId))
                throw new GranaryException(GranaryErrorCode.NotAMember, $"Member {memberId} left group '{_group}' of topic '{_topic}'; join again.");
            var deliveries = Take(memberId, maxMessages, lease);
            if (deliveries.Count > 0)
            {
                // Refill while the member works; an idle pull instead long-polls below (a zero-wait fetch there
                // would be repeated back to back for the whole wait).
                if (_delivery.ReadyCount < DeliveryState.BufferLimit / 2) _ = StartFetch(TimeSpan.Zero);
                if (_delivery.UnreadCount > 0) StartRefill();
                return deliveries;
            }

            var remaining = deadline - _time.GetUtcNow();
            if (remaining <= TimeSpan.Zero) return PullResult.Empty(_partition);
            // Taken before the fetch starts: a fetch can finish inside StartFetch (the partition's answer arrived
            // before the await looked at it), and the messages it added signal this task, not the next one. Taken
            // after, that signal was lost and the pull slept through its whole wait with messages ready.
            var available = _availableSignal.Task;
            // A member that may not take anything now (another owns the partition), or a full buffer, waits for a
            // change, not a fetch.
            Task? fetch = _delivery.MayTake(memberId) && _delivery.CanFetch ? StartFetch(remaining) : null;
            // Messages that went back are read again apart from the fetch (which may be a long poll): their refill
            // signals the pull. Even into a full ready set: this pull got nothing, and an unread message may be
            // what holds the others back (Ordered, KeyShared).
            if (_delivery.UnreadCount > 0) StartRefill();
            if (fetch is { IsCompleted: true })
            {
                if (fetch.IsFaulted) await fetch; // TopicNotFound and the like reach the member
                continue; // answered at once: take what came, or fetch again
            }
            await (fetch is null ? available : Task.WhenAny(fetch, available)).WaitAsync(remaining, _time)
                .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            if (fetch?.IsFaulted == true) await fetch;
        }
    }

    /// <summary>Leases what <see cref="DeliveryState.Take"/> gives the member and writes the pull's answer.</summary>
    private PullResult Take(string memberId, int maxMessages, TimeSpan lease)
    {
        _taking.Clear();
        _leasing.Clear();
        _delivery.Take(memberId, maxMessages, lease, _taking, _leasing);
        Apply(_delivery.TakeOutcome());
        var answer = PullAnswer.Write(_partition, CollectionsMarshal.AsSpan(_taking), [.. _leasing]);
        _taking.Clear(); // no reference to fetched buffers kept past the pull
        return answer;
    }

    /// <summary>
    /// The fetch in progress, or a new one. A fetch that finished at once is never kept as "in progress": waiting on
    /// a completed task would turn the pull loop into a busy spin.
    /// </summary>
    private Task StartFetch(TimeSpan maxWait)
    {
        if (_fetching is { IsCompleted: false } running) return running;
        var fetch = FetchAsync(maxWait);
        _fetching = fetch.IsCompleted ? null : fetch;
        return fetch;
    }

    /// <summary>
    /// Reads again the messages that went back without their record bytes (<see cref="DeliveryState.RefillFrom"/>),
    /// unless a refill runs already. Even into a full ready set: what went back is bounded by what was in flight, and
    /// until it is read again it can neither go out, nor expire, nor reach the dead-letter topic (with nobody pulling it
    /// would wait for ever). Failures are logged; the next pull or tick tries again.
    /// </summary>
    private void StartRefill()
    {
        if (_refilling is { IsCompleted: false } || _delivery.RefillFrom is null) return;
        var refill = RefillAsync();
        _refilling = refill.IsCompleted ? null : refill;
    }

    private async Task RefillAsync()
    {
        try
        {
            // One read per round, from the lowest: more rounds while the ready set has room (or after the next pull).
            while (_delivery.RefillFrom is { } from && !_deleted)
            {
                int epoch = _epoch;
                var result = await Partition.FetchAsync(from, DeliveryState.BufferLimit, TimeSpan.Zero);
                if (epoch != _epoch) continue; // a seek dropped them
                _delivery.RetainedFrom(result.StartOffset);
                foreach (var ranged in StoredBatches.Read(result.Batches, result.FromOffset, result.NextOffset))
                {
                    if (_delivery.IsUnread(ranged.Record.Offset))
                        _delivery.Refill(BufferedMessage.From(ranged), IsForAnotherGroup(ranged.Record));
                }
                _delivery.RefilledTo(Math.Max(from, result.FromOffset), result.NextOffset);
                Apply(_delivery.TakeOutcome());
                // A full ready set waits for pulls; a read that brought nothing back is not repeated at once.
                if (_delivery.ReadyCount >= DeliveryState.BufferLimit || _delivery.RefillFrom == from) break;
            }
        }
        catch (GranaryException e) when (e.Code == GranaryErrorCode.TopicNotFound)
        {
            // The topic is gone; its deletion removes this cursor.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFetchFailed(logger, e, _topic, _group, _partition);
        }
    }

    public async Task<LeaseRef[]> AckAsync(string memberId, LeaseRef[] deliveries)
    {
        await EnsureInitializedAsync();
        var refused = _delivery.Ack(memberId, deliveries);
        Apply(_delivery.TakeOutcome());
        return refused;
    }

    public async Task<LeaseRef[]> AckRunsAsync(string memberId, LeaseRun[] runs)
    {
        await EnsureInitializedAsync();
        var refused = _delivery.AckRuns(memberId, runs);
        Apply(_delivery.TakeOutcome());
        return refused;
    }

    public async Task<SettleResult> NackAsync(string memberId, LeaseRef[] deliveries, TimeSpan delay)
    {
        await EnsureInitializedAsync();
        var result = _delivery.Nack(memberId, deliveries, delay);
        Apply(_delivery.TakeOutcome());
        return result;
    }

    public Task<LeaseRef[]> RejectAsync(string memberId, LeaseRef[] deliveries) => RejectAsync(memberId, deliveries, RejectReason.Rejected);

    public Task<LeaseRef[]> RejectWithReasonAsync(string memberId, LeaseRef[] deliveries, string reason) =>
        RejectReasons.TryParse(reason, out var parsed)
            ? RejectAsync(memberId, deliveries, parsed)
            : throw new GranaryException(GranaryErrorCode.InvalidArgument,
                $"'{reason}' is not a reason a consumer may reject with: use '{GranaryHeaders.Reasons.Rejected}' or '{GranaryHeaders.Reasons.Deserialization}'.");

    private async Task<LeaseRef[]> RejectAsync(string memberId, LeaseRef[] deliveries, RejectReason reason)
    {
        await EnsureInitializedAsync();
        var refused = _delivery.Reject(memberId, deliveries, reason);
        Apply(_delivery.TakeOutcome());
        return refused;
    }

    public async Task<LeaseRef[]> ExtendAsync(string memberId, LeaseRef[] deliveries, TimeSpan lease)
    {
        if (lease <= TimeSpan.Zero) throw new GranaryException(GranaryErrorCode.InvalidArgument, "A lease must be positive.");
        await EnsureInitializedAsync();
        var extended = _delivery.Extend(memberId, deliveries, lease);
        Apply(_delivery.TakeOutcome());
        return extended;
    }

    public async Task ReleaseUnseenAsync(string memberId, LeaseRef[] unseen)
    {
        await EnsureInitializedAsync();
        _delivery.ReleaseUnseen(memberId, unseen);
        Apply(_delivery.TakeOutcome());
    }

    public async Task ReleaseMemberAsync(string memberId)
    {
        await EnsureInitializedAsync();
        _delivery.ReleaseMember(memberId);
        Apply(_delivery.TakeOutcome());
    }

    public async Task ConfigureAsync(CursorSetup setup)
    {
        await EnsureInitializedAsync();
        ApplySetup(setup);
    }

    private void ApplySetup(CursorSetup setup)
    {
        _settings = setup.Settings;
        _delivery.Configure(setup.Settings.Mode, setup.Settings.MaxDeliveries, setup.Owner);
        Apply(_delivery.TakeOutcome());
    }

    public async Task SeekAsync(long offset)
    {
        if (offset < 0) throw new GranaryException(GranaryErrorCode.InvalidArgument, $"Offset {offset} is negative.");
        await EnsureInitializedAsync();
        _epoch++;
        _delivery.Seek(offset);
        _fetching = null;
        _watching = true; // look at the new range for expiring and delayed messages
        _partitionEnd = long.MaxValue;
        _lagSlot?.Forget(); // measured against the old position; the next fetch reports it again
        Apply(_delivery.TakeOutcome());
        // Answered once the new position is durable: the next save (a snapshot) starts after this turn.
        await _persistence.SavedAfterNowAsync();
    }

    public async Task WakeAsync()
    {
        await EnsureInitializedAsync();
        _watching = true;
        _partitionEnd = long.MaxValue; // unknown until the next fetch
        EnsureTicking();
        // Registered before answering, so that a restart right after the wake still wakes the cursor.
        _reminder ??= await this.RegisterOrUpdateReminder(ReminderName, ReminderPeriod, ReminderPeriod);
    }

    public async Task<CursorInfo> DescribeAsync()
    {
        await EnsureInitializedAsync();
        long? oldest = await OldestUnackedTimestampAsync();
        // Messages that went back and wait to be read again are available too.
        return new CursorInfo(_delivery.Committed, _delivery.InFlightCount, _delivery.ReadyCount + _delivery.UnreadCount, (int)_delivery.AckedCount,
            _delivery.DelayedCount, oldest, _delivery.Expired, _delivery.DeadLettered, _delivery.Skipped);
    }

    public async Task DeleteAsync()
    {
        _deleted = true;
        var saving = _persistence.StopAsync();
        _lagSlot?.Dispose(); // a deleted group has no lag to report
        _lagSlot = null;
        _tickTimer?.Dispose();
        _tickTimer = null;
        await saving;
        // This activation may not be the one that registered the reminder: look it up rather than trust memory.
        var reminder = _reminder ?? await this.GetReminder(ReminderName);
        if (reminder is not null) await this.UnregisterReminder(reminder);
        _reminder = null;
        await _persistence.DeleteAsync();
        this.DeactivateOnIdle();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        await EnsureInitializedAsync();
        _reminder ??= await this.GetReminder(ReminderName); // registered by an earlier activation: ours to remove when done
        // Look again at the backlog: messages may have expired or come due while the cursor was not active.
        _watching = true;
        _partitionEnd = long.MaxValue;
        EnsureTicking();
    }

    /// <summary>The timestamp of the message at the committed offset, when it is stored (fetched if not in memory).</summary>
    private async Task<long?> OldestUnackedTimestampAsync()
    {
        var lowest = _delivery.LowestHeld();
        long committed = _delivery.Committed;
        if (lowest is { } known && known.Offset == committed) return known.TimestampMs;
        var fetched = await Partition.FetchAsync(committed, 1, TimeSpan.Zero);
        foreach (var ranged in StoredBatches.Read(fetched.Batches, fetched.FromOffset, fetched.NextOffset)) return ranged.Record.TimestampMs;
        return lowest?.TimestampMs;
    }

    /// <summary>Does what the delivery state asks for after a change.</summary>
    private void Apply(in DeliveryOutcome outcome)
    {
        if (outcome.RetentionSkipped is { } skipped) LogSkipped(logger, skipped, _topic, _group, _partition);
        if (outcome.LostSkipped is { } lost) LogLostSkipped(logger, lost, _topic, _group, _partition);
        if (outcome.Delivered > 0) GranaryMetrics.RecordDelivered(_topic, _group, outcome.Delivered, outcome.DeliveredBytes, outcome.Redelivered);
        // Dead-lettered ones are counted once their letter is written.
        if (outcome.ExpiredDropped > 0) GranaryMetrics.RecordExpired(_topic, _group, outcome.ExpiredDropped);
        if (outcome.TimedMessagesFetched) _watching = true;
        if (outcome.NeedsTick || outcome.TimedMessagesFetched) EnsureTicking();
        if (outcome.DeadLettersQueued) StartDeadLettering();
        if (outcome.Changed) MarkDirty();
        if (outcome.CommittedMoved) ReportLag();
        if (outcome.RefillNeeded) StartRefill();
        if (outcome.Available) SignalAvailable();
    }

    private void SignalAvailable()
    {
        var signal = _availableSignal;
        _availableSignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        signal.TrySetResult();
    }

    // ---- Fetching and watching ------------------------------------------------------------------------------------

    private async Task FetchAsync(TimeSpan maxWait)
    {
        if (!_delivery.CanFetch) return;
        int epoch = _epoch;
        var result = await Partition.FetchAsync(_delivery.FetchOffset, _delivery.FetchRoom, maxWait);
        if (epoch != _epoch) return; // a seek moved the cursor meanwhile
        _partitionEnd = result.EndOffset;
        _delivery.RetainedFrom(result.StartOffset);
        // Decoded once, here, into compact values that point into the fetched buffer.
        foreach (var ranged in StoredBatches.Read(result.Batches, result.FromOffset, result.NextOffset))
        {
            if (!_delivery.IsNew(ranged.Record.Offset)) continue;
            _delivery.Offer(BufferedMessage.From(ranged), IsForAnotherGroup(ranged.Record));
        }
        _delivery.FetchedTo(result.NextOffset);
        if (result.LostFromOffset is { } lost) _delivery.SkipLost(lost, result.NextOffset);
        Apply(_delivery.TakeOutcome());
        ReportLag();
    }

    /// <summary>Headers a dead letter or redrive adds (<see cref="DeadLetterWriter.IsProvenanceHeader"/>; the group's redrive asks here).</summary>
    internal static bool IsProvenanceHeader(string name) => DeadLetterWriter.IsProvenanceHeader(name);

    /// <summary>A redriven message is addressed to one group; every other group passes over it.</summary>
    private bool IsForAnotherGroup(in StoredRecord record) =>
        StoredBatches.TryGetHeader(record, RedriveGroupName, out var group) && !group.SequenceEqual(_groupUtf8 ??= Encoding.UTF8.GetBytes(_group));

    private void EnsureTicking()
    {
        _tickTimer ??= this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions
        {
            DueTime = options.Value.LeaseCheckInterval,
            Period = options.Value.LeaseCheckInterval,
            KeepAlive = true,
        });
    }

    /// <summary>
    /// The cursor's sub-second work while anything is pending: the delivery state's clock work (expired leases,
    /// messages coming due, expired messages), failed dead-letter writes retried, and, while watching for expiring or
    /// delayed messages, the backlog read ahead even with no member pulling.
    /// </summary>
    private Task TickAsync()
    {
        if (_deleted) return Task.CompletedTask;
        _delivery.Tick();
        Apply(_delivery.TakeOutcome());
        StartDeadLettering();
        StartRefill(); // after a failed read, again

        if (_watching)
        {
            if (_delivery.CanFetch)
            {
                if (_fetching is not { IsCompleted: false }) _ = WatchAsync();
            }
            else if (!_delivery.HasTimedMessagesBuffered)
            {
                // Read ahead as far as memory allows and nothing held expires: watching resumes when pulls make
                // room and a fetch brings timed messages in (an idle group is not kept active for ever).
                _watching = false;
            }
        }
        if (_delivery.IsIdle && !_watching)
        {
            _tickTimer?.Dispose();
            _tickTimer = null;
            MarkDirty(); // unregisters the reminder when nothing needs it any more
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Reads ahead while watching. Watching stops only when a fetch has just shown the end of the partition and
    /// nothing held in memory expires or is delayed; the partition is then told, so that it wakes the cursor again
    /// for the next such message (or at once, for one appended since that fetch).
    /// </summary>
    private async Task WatchAsync()
    {
        try
        {
            await StartFetch(TimeSpan.Zero);
            if (!_watching || _delivery.HasTimedMessagesBuffered || _delivery.FetchOffset < _partitionEnd) return;
            _watching = false;
            try
            {
                await Partition.WatchStoppedAsync(_group, _delivery.FetchOffset);
            }
            catch
            {
                _watching = true; // the partition was not told: keep watching, and tell it next time
                throw;
            }
        }
        catch (GranaryException e) when (e.Code == GranaryErrorCode.TopicNotFound)
        {
            _watching = false; // the topic is gone; its deletion removes this cursor
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFetchFailed(logger, e, _topic, _group, _partition);
        }
    }

    // ---- Dead letters ---------------------------------------------------------------------------------------------

    private void StartDeadLettering()
    {
        if (_deadLettering is null && _delivery.DeadLetterCount > 0) _deadLettering = DeadLetterLoopAsync();
    }

    /// <summary>
    /// Writes dead letters to the dead-letter topic, then marks them done: a crash in between writes them again
    /// (at-least-once into the dead-letter topic, never lost). A failed write is retried by the next tick.
    /// </summary>
    private async Task DeadLetterLoopAsync()
    {
        try
        {
            while (_delivery.DeadLetterCount > 0 && !_deleted)
            {
                int epoch = _epoch;
                var batch = _delivery.NextDeadLetters(DeadLettersPerWrite);
                try
                {
                    await _deadLetterWriter!.WriteAsync(_settings.DeadLetterTopicOf(_topic, _group), batch);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogDeadLetterFailed(logger, e, batch.Count, _topic, _group, _partition);
                    return;
                }
                if (epoch != _epoch) continue; // a seek dropped them
                var (maxDeliveries, expired, rejected, deserialization) = _delivery.DeadLettersWritten(batch);
                GranaryMetrics.RecordDeadLettered(_topic, _group, GranaryHeaders.Reasons.MaxDeliveries, maxDeliveries);
                GranaryMetrics.RecordDeadLettered(_topic, _group, GranaryHeaders.Reasons.Expired, expired);
                GranaryMetrics.RecordDeadLettered(_topic, _group, GranaryHeaders.Reasons.Rejected, rejected);
                GranaryMetrics.RecordDeadLettered(_topic, _group, GranaryHeaders.Reasons.Deserialization, deserialization);
                GranaryMetrics.RecordExpired(_topic, _group, expired);
                Apply(_delivery.TakeOutcome());
            }
        }
        finally
        {
            _deadLettering = null;
        }
    }

    // ---- State ----------------------------------------------------------------------------------------------------

    private Task EnsureInitializedAsync() => _initializing ??= InitializeAsync();

    private async Task InitializeAsync()
    {
        try
        {
            var setup = await GroupGrain.GetCursorSetupAsync(_partition);
            _settings = setup.Settings;
            _delivery.Configure(setup.Settings.Mode, setup.Settings.MaxDeliveries, setup.Owner);
            var topic = await GrainFactory.GetGrain<ITopicGrain>(_topic).GetConfigAsync();
            _delivery.DropExpired = topic.ExpiredMessages == ExpiredMessageAction.Drop;
            _reportCommitted = topic.Overflow == OverflowPolicy.RejectPublish;
            bool fresh = !_persistence.TryRestore();
            if (fresh)
            {
                long committed = setup.StartOffset ?? (await Partition.DescribeAsync()).StartOffset;
                _delivery.Restore(committed, [], new Dictionary<long, int>(), new Dictionary<long, long>(), 0, 0, 0);
            }
            _delivery.TakeOutcome(); // nothing to act on yet: no pull waits, nothing is leased
            if (_delivery.HasRestoredDeliveries)
            {
                // Deliveries and delays of the last activation: read them back in so their timers run again.
                _watching = true;
                _partitionEnd = long.MaxValue;
                EnsureTicking();
            }
            if (fresh || _persistence.IsDirty) MarkDirty();
        }
        catch
        {
            _initializing = null;
            throw;
        }
    }

    private void MarkDirty()
    {
        if (!_deleted) _persistence.MarkDirty();
    }

    private bool NeedsReminder => _delivery.HasPendingWork || _watching;

    /// <summary>
    /// After each save: unacknowledged, delayed and expiring messages must be handled even if nobody calls this cursor
    /// again (the reminder), and a RejectPublish partition holds retention back to the committed offset.
    /// </summary>
    private async Task AfterSaveAsync()
    {
        if (NeedsReminder && _reminder is null)
            _reminder = await this.RegisterOrUpdateReminder(ReminderName, ReminderPeriod, ReminderPeriod);
        else if (!NeedsReminder && _reminder is not null)
        {
            await this.UnregisterReminder(_reminder);
            _reminder = null;
        }
        if (_reportCommitted && _delivery.Committed != _reportedCommitted)
        {
            long reported = _delivery.Committed;
            await Partition.ReportCommittedAsync(_group, reported);
            _reportedCommitted = reported;
        }
    }

    /// <summary>
    /// Publishes this cursor's lag to the silo's gauge: the same count as the group's lag query (end of the partition
    /// minus what is acknowledged), as of the last fetch, which is the last time the cursor learnt the end.
    /// </summary>
    private void ReportLag()
    {
        // Gone or going: a call finishing after deactivation must not register a slot nobody disposes.
        if (_deleted || _deactivated) return;
        if (_partitionEnd == long.MaxValue)
        {
            _lagSlot?.Forget(); // end unknown since a seek or wake: the lag before it no longer holds
            return;
        }
        (_lagSlot ??= ConsumerLagRegistry.Register(_topic, _group)).Lag = _partitionEnd - _delivery.Committed - _delivery.AckedCount;
    }

    [LoggerMessage(3010, LogLevel.Error, "Group {Group} skipped {Count} messages of partition {Partition} of topic {Topic} whose records are lost (missing or damaged segment data; see the partition's gaps)")]
    private static partial void LogLostSkipped(ILogger logger, long count, string topic, string group, int partition);

    [LoggerMessage(3001, LogLevel.Warning, "Retention deleted {Count} messages that group {Group} had not acknowledged on partition {Partition} of topic {Topic}")]
    private static partial void LogSkipped(ILogger logger, long count, string topic, string group, int partition);

    [LoggerMessage(3003, LogLevel.Warning, "Could not dead-letter {Count} messages of group {Group} on partition {Partition} of topic {Topic}; retrying")]
    private static partial void LogDeadLetterFailed(ILogger logger, Exception exception, int count, string topic, string group, int partition);

    [LoggerMessage(3004, LogLevel.Warning, "Background fetch failed for group {Group} on partition {Partition} of topic {Topic}")]
    private static partial void LogFetchFailed(ILogger logger, Exception exception, string topic, string group, int partition);
}
