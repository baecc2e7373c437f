using Orleans.Concurrency;
using Granary.Grains.Diagnostics;
using Granary.Grains.Hosting;
using Granary.Grains.Hosting.StateFiles;
using Granary.Grains.Placement;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Granary.Records;

namespace Granary.Grains.Cursors;

/// <summary>
/// One consumer group on one partition. Messages are fetched from the partition into a buffer and leased to one
/// member at a time under the group's delivery mode (<see cref="PartitionCursorGrain.Take"/>). They come back when
/// nacked (at once or after a delay), when their lease expires or when their member leaves; delayed messages wait
/// for their time; expired and poison messages go to the dead-letter topic. A timer does this sub-second work while
/// anything is pending, and a reminder reactivates the cursor after a deactivation or restart while anything is
/// (delivered and unacknowledged, delayed, or expiring). Reentrant: a long-polling pull does not hold up acks.
/// </summary>
[Reentrant, PartitionPlacement, GrainType("granary.cursor")]
internal sealed partial class PartitionCursorGrain(
    [PersistentState("cursor", "granary")] IPersistentState<CursorState> state,
    [PersistentState("cursorIncarnation", "granary")] IPersistentState<CursorIncarnation> incarnation,
    IOptions<GranaryOptions> options,
    StateDamageLog damageLog,
    ILogger<PartitionCursorGrain> logger) : Grain, IPartitionCursorGrain, IRemindable
{
    // Ready messages held in memory; fetching stops while this many wait. Delayed messages have their own cap.
    private const int BufferLimit = 2000;
    private const int DelayedLimit = 100_000;
    private const string ReminderName = "redelivery";
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan SaveInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan DepartedMemory = TimeSpan.FromMinutes(5);

    // Messages are compact values over the fetched buffers (BufferedMessage): no payload, key or header copies.
    private readonly SortedDictionary<long, BufferedMessage> _ready = [];
    // Waiting for a deliver-at time or a nack delay; the due time is in _dueAt.
    private readonly SortedDictionary<long, BufferedMessage> _delayed = [];
    private readonly Dictionary<long, long> _dueAt = [];
    private readonly Dictionary<long, Lease> _inFlight = [];
    // KeyShared: which member holds a key's messages, and how many. Keys with a nack delay pending are blocked. Both
    // by the key's 64-bit hash (BufferedMessage.KeyHash): a collision only makes two keys share a hold, which is safe.
    private readonly Dictionary<ulong, KeyHold> _keyHolders = [];
    private readonly Dictionary<ulong, int> _retryKeys = [];
    // Members that left, with when: their late pulls are refused (they rejoin under a new id).
    private readonly Dictionary<string, DateTime> _departed = [];
    private SortedSet<long> _acked = [];
    private Dictionary<long, int> _attempts = [];
    private Dictionary<long, long> _retryAt = [];
    private long _expired, _deadLetteredCount, _skipped;

    private string _topic = "", _group = "";
    private int _partition;
    private GroupSettings _settings = new();
    private string? _owner;
    private long _committed, _fetchOffset, _partitionEnd, _reportedCommitted = -1;
    // Raised by a seek: fetches and dead-letter writes started before it must not touch the new position.
    private int _epoch;
    private bool _dirty, _deleted, _watching;
    private Task? _initializing, _fetching, _saving;
    private TaskCompletionSource _availableSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IGrainTimer? _tickTimer;
    private IGrainReminder? _reminder;
    private ConsumerLagSlot? _lagSlot;
    private bool _deactivated;

    /// <summary>A message leased to a member (a value: no object per delivery).</summary>
    private readonly record struct Lease(BufferedMessage Message, string Member, DateTime ExpiresAt, int Attempt, long Id);

    private sealed class KeyHold(string member)
    {
        public string Member { get; } = member;
        public int Count { get; set; }
    }

    private IPartitionGrain Partition => GrainFactory.GetGrain<IPartitionGrain>(GrainKeys.Partition(_topic, _partition));

    private IConsumerGroupGrain GroupGrain => GrainFactory.GetGrain<IConsumerGroupGrain>(GrainKeys.Group(_topic, _group));

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_topic, _group, _partition) = GrainKeys.ParseCursor(this.GetPrimaryKeyString());
        await ForgetEarlierIncarnationAsync();
        if (state.State.Damage is { } damage) await RecoverFromDamageAsync(damage);
    }

    /// <summary>
    /// The cursor's file was damaged and had no good previous copy: what was acknowledged is unknown, so the cursor never
    /// moves forward on a guess. It starts again from the earliest offset the partition retains (messages from there are
    /// delivered again) and writes that at once, so the damage is repaired and reported once. If the partition cannot
    /// answer, the activation fails and the next call tries again (the damaged file is still there).
    /// </summary>
    private async Task RecoverFromDamageAsync(StateFileDamage damage)
    {
        long earliest = (await Partition.DescribeAsync()).StartOffset;
        state.State = new CursorState { CommittedOffset = earliest };
        await state.WriteStateAsync();
        damageLog.Report("cursor", damage.File, damage.Problem, StateDamageAction.Reset,
            $"group '{_group}' on partition {_partition} of topic '{_topic}' starts again from the earliest retained offset {earliest}; messages from there are delivered again");
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The next activation (here or on another silo) reports this partition's lag from then on.
        _deactivated = true;
        _lagSlot?.Dispose();
        _lagSlot = null;
        if (_saving is not null) await _saving;
        if (_dirty) await SaveAsync();
    }

    public async Task<PullResult> PullAsync(string memberId, int maxMessages, TimeSpan lease, TimeSpan maxWait)
    {
        if (maxMessages < 1 || lease <= TimeSpan.Zero)
            throw new GranaryException(ErrorCode.InvalidArgument, "A pull needs a positive message count and lease.");
        await EnsureInitializedAsync();
        var deadline = DateTime.UtcNow + maxWait;
        while (true)
        {
            if (_departed.ContainsKey(memberId))
                throw new GranaryException(ErrorCode.NotAMember, $"Member {memberId} left group '{_group}' of topic '{_topic}'; join again.");
            var deliveries = Take(memberId, maxMessages, lease);
            if (deliveries.Count > 0)
            {
                // Refill while the member works; an idle pull instead long-polls below (a zero-wait fetch there
                // would be repeated back to back for the whole wait).
                if (_ready.Count < BufferLimit / 2) _ = StartFetch(TimeSpan.Zero);
                return deliveries;
            }

            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero) return PullResult.Empty(_partition);
            // Taken before the fetch starts: a fetch can finish inside StartFetch (the partition's answer arrived
            // before the await looked at it), and the messages it added signal this task, not the next one. Taken
            // after, that signal was lost and the pull slept through its whole wait with messages ready.
            var available = _availableSignal.Task;
            // A member that may not take anything now (another owns the partition), or a full buffer, waits for a
            // change, not a fetch.
            Task? fetch = MayTake(memberId) && CanFetch ? StartFetch(remaining) : null;
            if (fetch is { IsCompleted: true })
            {
                if (fetch.IsFaulted) await fetch; // TopicNotFound and the like reach the member
                continue; // answered at once: take what came, or fetch again
            }
            await (fetch is null ? available : Task.WhenAny(fetch, available)).WaitAsync(remaining)
                .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            if (fetch?.IsFaulted == true) await fetch;
        }
    }

    /// <summary>False while the buffers are full: a fetch would bring nothing in.</summary>
    private bool CanFetch => _ready.Count < BufferLimit && _delayed.Count < DelayedLimit;

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

    public async Task<LeaseRef[]> AckAsync(string memberId, LeaseRef[] deliveries)
    {
        await EnsureInitializedAsync();
        List<LeaseRef>? refused = null;
        foreach (var delivery in deliveries)
        {
            switch (StandingOf(memberId, delivery))
            {
                case LeaseStanding.Current or LeaseStanding.Ended:
                    MarkDone(delivery.Offset);
                    break;
                case LeaseStanding.Stale:
                    (refused ??= []).Add(delivery);
                    break;
            }
        }
        AdvanceCommitted();
        // An ack can free a key (KeyShared) or end a former owner's last lease (Ordered) that a waiting pull needs.
        if (_settings.Mode != DeliveryMode.Shared) SignalAvailable();
        return refused is null ? [] : [.. refused];
    }

    public async Task<SettleResult> NackAsync(string memberId, LeaseRef[] deliveries, TimeSpan delay)
    {
        await EnsureInitializedAsync();
        var revoked = new List<LeaseRef>();
        List<LeaseRef>? refused = null;
        long dueMs = delay > TimeSpan.Zero ? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (long)delay.TotalMilliseconds : 0;
        // Nacked in this call: each goes back as a nacked delivery (its attempt counted), never as a take-back.
        var nacked = new HashSet<long>();
        foreach (var delivery in deliveries)
        {
            if (StandingOf(memberId, delivery) == LeaseStanding.Current) nacked.Add(delivery.Offset);
            else (refused ??= []).Add(delivery);
        }
        // Lowest first, so that the messages go back in order.
        foreach (long offset in nacked.Order())
        {
            var lease = _inFlight[offset];
            EndLease(offset, lease);
            if (dueMs > 0)
            {
                _retryAt[offset] = dueMs;
                Hold(lease.Message, dueMs, retry: true);
            }
            else
            {
                _ready[offset] = lease.Message;
            }
            TakeBackLaterThan(lease.Message, revoked, nacked);
        }
        MarkDirty();
        EnsureTicking();
        SignalAvailable();
        return new SettleResult(refused is null ? [] : [.. refused], [.. revoked]);
    }

    public async Task<LeaseRef[]> RejectAsync(string memberId, LeaseRef[] deliveries)
    {
        await EnsureInitializedAsync();
        List<LeaseRef>? refused = null;
        foreach (var delivery in deliveries)
        {
            if (StandingOf(memberId, delivery) != LeaseStanding.Current)
            {
                (refused ??= []).Add(delivery);
                continue;
            }
            var lease = _inFlight[delivery.Offset];
            EndLease(delivery.Offset, lease);
            QueueDeadLetter(lease.Message, GranaryHeaders.Reasons.Rejected, lease.Attempt);
        }
        StartDeadLettering();
        // As with an ack: a reject can free a key (KeyShared) or end a former owner's last lease (Ordered).
        if (_settings.Mode != DeliveryMode.Shared) SignalAvailable();
        return refused is null ? [] : [.. refused];
    }

    public async Task<LeaseRef[]> ExtendAsync(string memberId, LeaseRef[] deliveries, TimeSpan lease)
    {
        if (lease <= TimeSpan.Zero) throw new GranaryException(ErrorCode.InvalidArgument, "A lease must be positive.");
        await EnsureInitializedAsync();
        var expiresAt = DateTime.UtcNow + lease;
        var extended = new List<LeaseRef>();
        foreach (var delivery in deliveries)
        {
            if (StandingOf(memberId, delivery) != LeaseStanding.Current) continue;
            _inFlight[delivery.Offset] = _inFlight[delivery.Offset] with { ExpiresAt = expiresAt };
            extended.Add(delivery);
        }
        return [.. extended];
    }

    public async Task ReleaseUnseenAsync(string memberId, LeaseRef[] unseen)
    {
        await EnsureInitializedAsync();
        // In the same turn as the release: a pull of this member waiting now must not take the messages again.
        MarkDeparted(memberId);
        var releasing = unseen.Where(d => StandingOf(memberId, d) == LeaseStanding.Current).Select(d => d.Offset).ToHashSet();
        foreach (long offset in releasing.Order())
        {
            var lease = _inFlight[offset];
            EndLease(offset, lease);
            _ready[offset] = lease.Message;
            UncountAttempt(offset, lease);
            TakeBackLaterThan(lease.Message, revoked: null, except: releasing);
        }
        if (releasing.Count == 0) return;
        MarkDirty();
        SignalAvailable();
    }

    public async Task ReleaseMemberAsync(string memberId)
    {
        await EnsureInitializedAsync();
        MarkDeparted(memberId);
        ReturnLeasesOf(memberId);
    }

    /// <summary>Refuses the member's pulls from now on (it rejoins under a new id); forgets members long gone.</summary>
    private void MarkDeparted(string memberId)
    {
        var now = DateTime.UtcNow;
        foreach (var old in _departed.Where(d => now - d.Value > DepartedMemory).Select(d => d.Key).ToList()) _departed.Remove(old);
        _departed[memberId] = now;
    }

    public async Task ConfigureAsync(CursorSetup setup)
    {
        await EnsureInitializedAsync();
        ApplySetup(setup);
    }

    public async Task SeekAsync(long offset)
    {
        if (offset < 0) throw new GranaryException(ErrorCode.InvalidArgument, $"Offset {offset} is negative.");
        await EnsureInitializedAsync();
        _epoch++;
        _ready.Clear();
        _delayed.Clear();
        _dueAt.Clear();
        _inFlight.Clear();
        _keyHolders.Clear();
        _retryKeys.Clear();
        _acked.Clear();
        _attempts.Clear();
        _retryAt.Clear();
        _lastLease.Clear();
        _deadLetters.Clear();
        _committed = offset;
        _fetchOffset = offset;
        _fetching = null;
        _watching = true; // look at the new range for expiring and delayed messages
        _partitionEnd = long.MaxValue;
        _lagSlot?.Forget(); // measured against the old position; the next fetch reports it again
        MarkDirty();
        EnsureTicking();
        SignalAvailable();
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
        return new CursorInfo(_committed, _inFlight.Count, _ready.Count, _acked.Count, _delayed.Count, oldest, _expired, _deadLetteredCount, _skipped);
    }

    public async Task DeleteAsync()
    {
        _deleted = true;
        _lagSlot?.Dispose(); // a deleted group has no lag to report
        _lagSlot = null;
        _tickTimer?.Dispose();
        _tickTimer = null;
        if (_saving is not null) await _saving;
        // This activation may not be the one that registered the reminder: look it up rather than trust memory.
        var reminder = _reminder ?? await this.GetReminder(ReminderName);
        if (reminder is not null) await this.UnregisterReminder(reminder);
        _reminder = null;
        await state.ClearStateAsync();
        _dirty = false;
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
        BufferedMessage? lowest = null;
        foreach (var m in _ready.Values.Concat(_delayed.Values).Concat(_inFlight.Values.Select(l => l.Message)))
        {
            if (m.Offset >= _committed && (lowest is null || m.Offset < lowest.Value.Offset)) lowest = m;
        }
        if (lowest is { } known && known.Offset == _committed) return known.TimestampMs;
        var fetched = await Partition.FetchAsync(_committed, 1, TimeSpan.Zero);
        foreach (var ranged in StoredBatches.Read(fetched.Batches, fetched.FromOffset, fetched.NextOffset)) return ranged.Record.TimestampMs;
        return lowest?.TimestampMs;
    }

    private void SignalAvailable()
    {
        var signal = _availableSignal;
        _availableSignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        signal.TrySetResult();
    }

    [LoggerMessage(3010, LogLevel.Error, "Group {Group} skipped {Count} messages of partition {Partition} of topic {Topic} whose records are lost (missing or damaged segment data; see the partition's gaps)")]
    private static partial void LogLostSkipped(ILogger logger, long count, string topic, string group, int partition);

    [LoggerMessage(3001, LogLevel.Warning, "Retention deleted {Count} messages that group {Group} had not acknowledged on partition {Partition} of topic {Topic}")]
    private static partial void LogSkipped(ILogger logger, long count, string topic, string group, int partition);

    [LoggerMessage(3002, LogLevel.Error, "Could not save the cursor of group {Group} on partition {Partition} of topic {Topic}")]
    private static partial void LogSaveFailed(ILogger logger, Exception exception, string topic, string group, int partition);

    [LoggerMessage(3003, LogLevel.Warning, "Could not dead-letter {Count} messages of group {Group} on partition {Partition} of topic {Topic}; retrying")]
    private static partial void LogDeadLetterFailed(ILogger logger, Exception exception, int count, string topic, string group, int partition);

    [LoggerMessage(3004, LogLevel.Warning, "Background fetch failed for group {Group} on partition {Partition} of topic {Topic}")]
    private static partial void LogFetchFailed(ILogger logger, Exception exception, string topic, string group, int partition);
}
