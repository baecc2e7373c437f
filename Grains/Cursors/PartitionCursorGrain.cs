using System.Runtime.InteropServices;
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
/// delivery rule), <see cref="CursorFetcher"/> (which fills it from the partition), <see cref="DeadLetterPump"/> and
/// <see cref="CursorStatePersistence"/>: calls, a timer that runs their clock-driven work while anything is pending, a
/// reminder that reactivates the cursor after a deactivation or restart while anything is (delivered and
/// unacknowledged, delayed, or expiring), metrics and logs.
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
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);

    private readonly TimeProvider _time = time;
    private readonly DeliveryState _delivery = new(time);
    // The leased records and their leases of one pull, kept from pull to pull (a pull takes in one turn, never
    // interleaved): no garbage per message besides the answer itself.
    private readonly List<BufferedMessage> _taking = [];
    private readonly List<LeasedRecord> _leasing = [];

    private string _topic = "", _group = "";
    private int _partition;
    private GroupSettings _settings = new();
    private long _reportedCommitted = -1;
    private bool _deleted;
    // Only a RejectPublish partition uses the committed offset (to hold retention back): no call per save otherwise.
    private bool _reportCommitted;
    private Task? _initializing;
    private IGrainTimer? _tickTimer;
    private IGrainReminder? _reminder;
    // Set at activation (every call comes after it): loads and saves the delivery state in the cursor's state log;
    // fills it from the partition; writes its dead letters.
    private CursorStatePersistence _persistence = null!;
    private CursorFetcher _fetcher = null!;
    private DeadLetterPump _deadLetters = null!;
    private CursorLagGauge _lag = null!;

    private IPartitionGrain Partition => GrainFactory.GetGrain<IPartitionGrain>(GrainKeys.Partition(_topic, _partition));

    private IConsumerGroupGrain GroupGrain => GrainFactory.GetGrain<IConsumerGroupGrain>(GrainKeys.Group(_topic, _group));

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_topic, _group, _partition) = GrainKeys.ParseCursor(this.GetPrimaryKeyString());
        _lag = new CursorLagGauge(_topic, _group);
        _fetcher = new CursorFetcher(_delivery, new PartitionGrainReader(Partition, _group), ApplyOutcome, ReportLag, _time, logger, _topic, _group, _partition);
        var writer = new DeadLetterWriter(GrainFactory, _time, _topic, _group, _partition);
        _deadLetters = new DeadLetterPump(_delivery, letters => writer.WriteAsync(_settings.DeadLetterTopicOf(_topic, _group), letters),
            ApplyOutcome, logger, _topic, _group, _partition);
        var log = await stateStore.OpenAsync(this.GetPrimaryKeyString());
        _persistence = new CursorStatePersistence(log, new EarlierCursorGrainState(state), _delivery,
            async () => (await Partition.DescribeAsync()).StartOffset, AfterSaveAsync, damageLog, _time, logger, _topic, _group, _partition);
        await CursorIncarnationCheck.ForgetEarlierIncarnationAsync(GrainFactory, state, incarnation, log, logger, _topic, _group, _partition);
        await _persistence.LoadAsync();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _lag?.Close(); // null when the activation failed at once
        if (_persistence is null) return; // the activation failed before its state log was open
        await _persistence.FlushAsync();
        _persistence.Close();
        _delivery.DropReady(); // their fetched buffers go back to the pool
    }

    public Task<PullResult> PullAsync(string memberId, int maxMessages, TimeSpan lease, TimeSpan maxWait) =>
        PullCoreAsync(memberId, maxMessages, lease, maxWait, static self => self.WriteLeasedRecords());

    public Task<LeasedBatches> PullRunsAsync(string memberId, int maxMessages, TimeSpan lease, TimeSpan maxWait) =>
        PullCoreAsync(memberId, maxMessages, lease, maxWait, static self => self.WriteLeaseRuns());

    /// <summary>
    /// Leases up to <paramref name="maxMessages"/> to the member, waiting up to <paramref name="maxWait"/>, and answers
    /// with <paramref name="answer"/>, called in the turn that took (so <c>_taking</c> and <c>_leasing</c> hold this
    /// pull's deliveries only, none when the wait ran out).
    /// </summary>
    private async Task<T> PullCoreAsync<T>(string memberId, int maxMessages, TimeSpan lease, TimeSpan maxWait, Func<PartitionCursorGrain, T> answer)
    {
        if (maxMessages < 1 || lease <= TimeSpan.Zero)
            throw new GranaryException(GranaryErrorCode.InvalidArgument, "A pull needs a positive message count and lease.");
        await EnsureInitializedAsync();
        var deadline = _time.GetUtcNow() + maxWait;
        while (true)
        {
            if (_delivery.HasDeparted(memberId))
                throw new GranaryException(GranaryErrorCode.NotAMember, $"Member {memberId} left group '{_group}' of topic '{_topic}'; join again.");
            if (Take(memberId, maxMessages, lease))
            {
                var deliveries = answer(this);
                PullAnswerAge.Record(_topic, _group, _time, CollectionsMarshal.AsSpan(_taking), CollectionsMarshal.AsSpan(_leasing));
                DeliveryState.ReleaseTaken(_taking); // copied: their fetched buffers may go back to the pool
                _fetcher.ReadAheadAfterPull();
                return deliveries;
            }

            var remaining = deadline - _time.GetUtcNow();
            if (remaining <= TimeSpan.Zero) return answer(this);
            await _fetcher.WaitForMessagesAsync(memberId, remaining);
        }
    }

    /// <summary>Leases what <see cref="DeliveryState.Take"/> gives the member into <c>_taking</c> and <c>_leasing</c>; false when nothing.</summary>
    private bool Take(string memberId, int maxMessages, TimeSpan lease)
    {
        _taking.Clear();
        _leasing.Clear();
        _delivery.Take(memberId, maxMessages, lease, _taking, _leasing);
        Apply(_delivery.TakeOutcome());
        return _leasing.Count > 0;
    }

    /// <summary>The answer of <see cref="PullAsync"/>: a lease object per record.</summary>
    private PullResult WriteLeasedRecords() =>
        PullAnswer.Write(_partition, CollectionsMarshal.AsSpan(_taking), [.. _leasing]);

    /// <summary>The answer of <see cref="PullRunsAsync"/>: the leases as runs.</summary>
    private LeasedBatches WriteLeaseRuns() =>
        PullAnswer.WriteRuns(_partition, CollectionsMarshal.AsSpan(_taking), CollectionsMarshal.AsSpan(_leasing));

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
        _fetcher.Seek();
        _deadLetters.Seek();
        _delivery.Seek(offset);
        _lag.Forget(); // measured against the old position; the next fetch reports it again
        Apply(_delivery.TakeOutcome());
        // Answered once the new position is durable: the next save (a snapshot) starts after this turn.
        await _persistence.SavedAfterNowAsync();
    }

    public async Task WakeAsync()
    {
        await EnsureInitializedAsync();
        _fetcher.WatchBacklog();
        EnsureTicking();
        // Registered before answering, so that a restart right after the wake still wakes the cursor.
        _reminder ??= await this.RegisterOrUpdateReminder(ReminderName, ReminderPeriod, ReminderPeriod);
    }

    public async Task<CursorInfo> DescribeAsync()
    {
        await EnsureInitializedAsync();
        long? oldest = await _fetcher.OldestUnackedTimestampAsync();
        // Messages that went back and wait to be read again are available too.
        return new CursorInfo(_delivery.Committed, _delivery.InFlightCount, _delivery.ReadyCount + _delivery.UnreadCount, (int)_delivery.AckedCount,
            _delivery.DelayedCount, oldest, _delivery.Expired, _delivery.DeadLettered, _delivery.Skipped);
    }

    public async Task DeleteAsync()
    {
        _deleted = true;
        _fetcher.Stop();
        _deadLetters.Stop();
        var saving = _persistence.StopAsync();
        _lag.Close(); // a deleted group has no lag to report
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
        _fetcher.WatchBacklog();
        EnsureTicking();
    }

    /// <summary>Does what the delivery state asks for after a change.</summary>
    private void Apply(in DeliveryOutcome outcome)
    {
        if (outcome.RetentionSkipped is { } skipped) LogSkipped(logger, skipped, _topic, _group, _partition);
        if (outcome.LostSkipped is { } lost) LogLostSkipped(logger, lost, _topic, _group, _partition);
        if (outcome.Delivered > 0) GranaryMetrics.RecordDelivered(_topic, _group, outcome.Delivered, outcome.DeliveredBytes, outcome.Redelivered);
        // Dead-lettered ones are counted once their letter is written.
        if (outcome.ExpiredDropped > 0) GranaryMetrics.RecordExpired(_topic, _group, outcome.ExpiredDropped);
        if (outcome.NeedsTick || outcome.TimedMessagesFetched) EnsureTicking();
        if (outcome.DeadLettersQueued) _deadLetters.Start();
        if (outcome.Changed) MarkDirty();
        if (outcome.CommittedMoved) ReportLag();
        _fetcher.Follow(outcome); // watching, refill, waiting pulls
    }

    private void ApplyOutcome() => Apply(_delivery.TakeOutcome());

    /// <summary>Headers a dead letter or redrive adds (<see cref="DeadLetterWriter.IsProvenanceHeader"/>; the group's redrive asks here).</summary>
    internal static bool IsProvenanceHeader(string name) => DeadLetterWriter.IsProvenanceHeader(name);

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
        _deadLetters.Start(); // after a failed write, again
        _fetcher.Tick();
        if (_delivery.IsIdle && !_fetcher.IsWatching)
        {
            _tickTimer?.Dispose();
            _tickTimer = null;
            MarkDirty(); // unregisters the reminder when nothing needs it any more
        }
        return Task.CompletedTask;
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
                _fetcher.WatchBacklog();
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

    private bool NeedsReminder => _delivery.HasPendingWork || _fetcher.IsWatching;

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

    private void ReportLag() => _lag.Report(_fetcher.PartitionEnd, _delivery.Committed, _delivery.AckedCount);

    [LoggerMessage(3010, LogLevel.Error, "Group {Group} skipped {Count} messages of partition {Partition} of topic {Topic} whose records are lost (missing or damaged segment data; see the partition's gaps)")]
    private static partial void LogLostSkipped(ILogger logger, long count, string topic, string group, int partition);

    [LoggerMessage(3001, LogLevel.Warning, "Retention deleted {Count} messages that group {Group} had not acknowledged on partition {Partition} of topic {Topic}")]
    private static partial void LogSkipped(ILogger logger, long count, string topic, string group, int partition);
}
