using Orleans.Concurrency;
using Granary.Grains.Hosting;
using Granary.Grains.Placement;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Grains.Cursors;

/// <summary>
/// One consumer group on one partition. Messages are fetched from the partition into a buffer, leased to one member
/// at a time, and return to the buffer when nacked, when their lease expires (a timer checks while anything is in
/// flight) or when their member leaves. Acks advance the committed offset. A reminder, registered while delivered
/// messages are unacknowledged, reactivates the cursor after a deactivation or a silo restart. Reentrant: a
/// long-polling pull does not hold up acks from other members.
/// </summary>
[Reentrant, PartitionPlacement, GrainType("granary.cursor")]
internal sealed partial class PartitionCursorGrain(
    [PersistentState("cursor", "granary")] IPersistentState<CursorState> state,
    IOptions<GranaryOptions> options,
    ILogger<PartitionCursorGrain> logger) : Grain, IPartitionCursorGrain, IRemindable
{
    private const int BufferLimit = 2000;
    private const string ReminderName = "redelivery";
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan SaveInterval = TimeSpan.FromMilliseconds(100);

    private readonly SortedDictionary<long, StoredMessage> _available = [];
    private readonly Dictionary<long, Lease> _inFlight = [];
    // Members that left, with when: their late pulls are refused (they rejoin under a new id). Pruned after a while.
    private readonly Dictionary<string, DateTime> _departed = [];
    private static readonly TimeSpan DepartedMemory = TimeSpan.FromMinutes(5);
    private SortedSet<long> _acked = [];
    private Dictionary<long, int> _attempts = [];
    private string _topic = "", _group = "";
    private int _partition;
    private long _committed, _fetchOffset;
    private Task? _initializing, _fetching, _saving;
    private bool _dirty, _deleted;
    private TaskCompletionSource _availableSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IGrainTimer? _leaseTimer;
    private IGrainReminder? _reminder;

    private sealed record Lease(StoredMessage Message, string Member, DateTime ExpiresAt);

    private IPartitionGrain Partition => GrainFactory.GetGrain<IPartitionGrain>(GrainKeys.Partition(_topic, _partition));

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_topic, _group, _partition) = GrainKeys.ParseCursor(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_saving is not null) await _saving;
        if (_dirty) await SaveAsync();
    }

    public async Task<Delivery[]> PullAsync(string memberId, int maxMessages, TimeSpan lease, TimeSpan maxWait)
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
            if (deliveries.Length > 0)
            {
                // Refill while the member works; an idle pull instead long-polls below (a zero-wait fetch there
                // would be repeated back to back for the whole wait).
                if (_available.Count < BufferLimit / 2) _ = StartFetch(TimeSpan.Zero);
                return deliveries;
            }

            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero) return [];
            var fetch = StartFetch(remaining);
            await ((Task)Task.WhenAny(fetch, _availableSignal.Task)).WaitAsync(remaining)
                .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            if (fetch.IsFaulted) await fetch; // TopicNotFound and the like reach the member
        }
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

    public async Task AckAsync(long[] offsets)
    {
        await EnsureInitializedAsync();
        foreach (long offset in offsets)
        {
            if (offset < _committed || _acked.Contains(offset)) continue;
            // A late ack (lease expired, message back in the buffer) still counts: the work was done.
            if (!_inFlight.Remove(offset)) _available.Remove(offset);
            _acked.Add(offset);
            _attempts.Remove(offset);
        }
        while (_acked.Remove(_committed)) _committed++;
        MarkDirty();
    }

    public async Task NackAsync(string memberId, long[] offsets)
    {
        await EnsureInitializedAsync();
        foreach (long offset in offsets)
        {
            if (_inFlight.TryGetValue(offset, out var lease) && lease.Member == memberId)
            {
                _inFlight.Remove(offset);
                _available[offset] = lease.Message;
            }
        }
        SignalAvailable();
    }

    public async Task ReleaseMemberAsync(string memberId)
    {
        await EnsureInitializedAsync();
        var now = DateTime.UtcNow;
        foreach (var old in _departed.Where(d => now - d.Value > DepartedMemory).Select(d => d.Key).ToList()) _departed.Remove(old);
        _departed[memberId] = now;
        foreach (var (offset, lease) in _inFlight.Where(l => l.Value.Member == memberId).ToList())
        {
            _inFlight.Remove(offset);
            _available[offset] = lease.Message;
        }
        SignalAvailable();
    }

    public async Task<CursorInfo> DescribeAsync()
    {
        await EnsureInitializedAsync();
        return new CursorInfo(_committed, _inFlight.Count, _available.Count);
    }

    public async Task DeleteAsync()
    {
        _deleted = true;
        _leaseTimer?.Dispose();
        _leaseTimer = null;
        if (_saving is not null) await _saving;
        // This activation may not be the one that registered the reminder: look it up rather than trust memory.
        var reminder = _reminder ?? await this.GetReminder(ReminderName);
        if (reminder is not null) await this.UnregisterReminder(reminder);
        _reminder = null;
        await state.ClearStateAsync();
        _dirty = false;
        this.DeactivateOnIdle();
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => EnsureInitializedAsync();

    private Delivery[] Take(string memberId, int maxMessages, TimeSpan lease)
    {
        if (_available.Count == 0) return [];
        var deliveries = new Delivery[Math.Min(maxMessages, _available.Count)];
        var expiresAt = DateTime.UtcNow + lease;
        int taken = 0;
        // One in-order walk, lowest offsets first: redeliveries go out before newer messages.
        foreach (var (offset, message) in _available)
        {
            if (taken == deliveries.Length) break;
            int attempt = _attempts.GetValueOrDefault(offset) + 1;
            _attempts[offset] = attempt;
            _inFlight[offset] = new Lease(message, memberId, expiresAt);
            deliveries[taken++] = new Delivery(_partition, message, attempt);
        }
        foreach (var delivery in deliveries) _available.Remove(delivery.Message.Offset);
        _leaseTimer ??= this.RegisterGrainTimer(ExpireLeasesAsync, new GrainTimerCreationOptions
        {
            DueTime = options.Value.LeaseCheckInterval,
            Period = options.Value.LeaseCheckInterval,
            KeepAlive = true,
        });
        MarkDirty();
        return deliveries;
    }

    private Task ExpireLeasesAsync()
    {
        var now = DateTime.UtcNow;
        var expired = _inFlight.Where(l => l.Value.ExpiresAt <= now).ToList();
        foreach (var (offset, lease) in expired)
        {
            _inFlight.Remove(offset);
            _available[offset] = lease.Message;
        }
        if (expired.Count > 0) SignalAvailable();
        if (_inFlight.Count == 0)
        {
            _leaseTimer?.Dispose();
            _leaseTimer = null;
        }
        return Task.CompletedTask;
    }

    private async Task FetchAsync(TimeSpan maxWait)
    {
        int room = BufferLimit - _available.Count;
        if (room <= 0) return;
        var result = await Partition.FetchAsync(_fetchOffset, room, maxWait);
        if (result.StartOffset > _committed)
        {
            // Retention removed messages this group never acknowledged: they cannot be delivered or acknowledged
            // any more, so forget every trace of them and move past them.
            long start = result.StartOffset;
            LogSkipped(logger, start - _committed, _topic, _group, _partition);
            foreach (long gone in _available.Keys.Where(o => o < start).ToList()) _available.Remove(gone);
            foreach (long gone in _inFlight.Keys.Where(o => o < start).ToList()) _inFlight.Remove(gone);
            foreach (long gone in _attempts.Keys.Where(o => o < start).ToList()) _attempts.Remove(gone);
            _acked.RemoveWhere(o => o < start);
            _committed = start;
            while (_acked.Remove(_committed)) _committed++;
            MarkDirty();
        }
        bool added = false;
        foreach (var message in result.Messages)
        {
            if (message.Offset < _committed || _acked.Contains(message.Offset) || _inFlight.ContainsKey(message.Offset)) continue;
            added |= _available.TryAdd(message.Offset, message);
        }
        _fetchOffset = Math.Max(_fetchOffset, result.NextOffset);
        if (added) SignalAvailable();
    }

    private void SignalAvailable()
    {
        var signal = _availableSignal;
        _availableSignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        signal.TrySetResult();
    }

    private Task EnsureInitializedAsync() => _initializing ??= InitializeAsync();

    private async Task InitializeAsync()
    {
        try
        {
            if (state.State.CommittedOffset is { } committed)
            {
                _committed = committed;
            }
            else
            {
                long? start = await GrainFactory.GetGrain<IConsumerGroupGrain>(GrainKeys.Group(_topic, _group)).GetStartOffsetAsync(_partition);
                _committed = start ?? (await Partition.DescribeAsync()).StartOffset;
                _dirty = true;
            }
            _acked = [.. state.State.AckedAbove];
            _attempts = new Dictionary<long, int>(state.State.Attempts);
            _fetchOffset = _committed;
            if (_dirty || _attempts.Count > 0) MarkDirty();
        }
        catch
        {
            _initializing = null;
            throw;
        }
    }

    private void MarkDirty()
    {
        if (_deleted) return;
        _dirty = true;
        _saving ??= SaveLoopAsync();
    }

    /// <summary>
    /// One write at a time, at most one per <see cref="SaveInterval"/>: acks arrive in many small batches and each write
    /// is fsynced, so changes made meanwhile are folded into the next write. A crash loses at most that interval of
    /// acks, and those messages are delivered again (at-least-once).
    /// </summary>
    private async Task SaveLoopAsync()
    {
        try
        {
            while (_dirty && !_deleted)
            {
                await Task.Delay(SaveInterval);
                await SaveAsync();
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _dirty = true; // the next change retries with everything
            LogSaveFailed(logger, e, _topic, _group, _partition);
        }
        finally
        {
            _saving = null;
        }
    }

    private async Task SaveAsync()
    {
        if (_deleted) return;
        _dirty = false;
        state.State = new CursorState { CommittedOffset = _committed, AckedAbove = [.. _acked], Attempts = new Dictionary<long, int>(_attempts) };
        await state.WriteStateAsync();
        // Delivered but unacknowledged messages must come back even if nobody calls this cursor again.
        if (_attempts.Count > 0 && _reminder is null)
            _reminder = await this.RegisterOrUpdateReminder(ReminderName, ReminderPeriod, ReminderPeriod);
        else if (_attempts.Count == 0 && _reminder is not null)
        {
            await this.UnregisterReminder(_reminder);
            _reminder = null;
        }
    }

    [LoggerMessage(3001, LogLevel.Warning, "Retention deleted {Count} messages that group {Group} had not acknowledged on partition {Partition} of topic {Topic}")]
    private static partial void LogSkipped(ILogger logger, long count, string topic, string group, int partition);

    [LoggerMessage(3002, LogLevel.Error, "Could not save the cursor of group {Group} on partition {Partition} of topic {Topic}")]
    private static partial void LogSaveFailed(ILogger logger, Exception exception, string topic, string group, int partition);
}
