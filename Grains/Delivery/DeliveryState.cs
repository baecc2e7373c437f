using System.Runtime.InteropServices;
using Granary.Grains.Cursors;
using Granary.Storage;

namespace Granary.Grains.Delivery;

/// <summary>
/// The delivery rules of one consumer group on one partition, in one place: what a pull gets under the group's mode
/// (<see cref="Take"/>), what an ack, nack, reject or lease extension does, when a lease expires, when a message is
/// due, expired or dead, and what a seek, a retention gap or a departed member changes. It holds the messages the
/// cursor fetched (ready, delayed, in flight), the acknowledged ranges, attempts and nack delays. Time comes from the
/// injected <see cref="TimeProvider"/>; nothing here calls Orleans or does I/O: every change is summed up in
/// <see cref="TakeOutcome"/> for the grain to act on (save, signal pulls, tick, write dead letters, metrics, logs).
/// Not thread-safe: the grain calls it from its turns only.
/// </summary>
internal sealed class DeliveryState
{
    /// <summary>Ready messages held in memory; fetching stops while this many wait.</summary>
    public const int BufferLimit = 2000;
    /// <summary>Delayed messages held in memory; fetching stops while this many wait.</summary>
    public const int DelayedLimit = 100_000;

    private readonly TimeProvider _time;
    // Messages are compact values over the fetched buffers (BufferedMessage): no payload, key or header copies; kept
    // in pages of offsets, not a tree node per message. Holds a reference to each pooled fetched buffer it keeps a
    // message over; every other set keeps messages with bytes of their own (Compact), or none.
    private readonly ReadySet _ready = new();
    // Waiting for a deliver-at time or a nack delay; the due time is in _dueAt.
    private readonly SortedDictionary<long, BufferedMessage> _delayed = [];
    private readonly Dictionary<long, long> _dueAt = [];
    // In flight: compact leases without record bytes, by offset; attempts of leased messages live in their lease.
    private readonly OffsetTable<Lease> _inFlight = new();
    private readonly MemberTable _members = new();
    // Leases that ended without an ack: to be read again from the partition before they go out (RefillFrom).
    private readonly OffsetTable<UnreadMessage> _unread = new();
    // KeyShared: keys with messages among the unread (by key hash), how many and the lowest offset: the key's
    // messages after that one wait for it.
    private readonly Dictionary<ulong, UnreadKey> _unreadKeys = [];

    private readonly record struct UnreadKey(int Count, long Lowest);
    private readonly KeyHolds _keyHolds = new();
    // KeyShared: keys with a nack delay pending are blocked (by key hash, as KeyHolds), with how many are pending.
    private readonly Dictionary<ulong, int> _retryKeys = [];
    private readonly DepartedMembers _departed;
    private readonly OffsetRanges _acked = new();
    // Attempts of messages not in flight now (returned, restored); a leased message's attempt is in its lease.
    private readonly Dictionary<long, int> _attempts = [];
    // Nacked with a delay: offset → not before (Unix ms). Persisted, so a restart keeps the delay.
    private readonly Dictionary<long, long> _retryAt = [];
    // The lease id of each message's latest delivery once that lease ended, until the message is done: an answer to
    // that delivery is still taken as long as nobody was given the message since. Not persisted (leases are
    // not): after a restart every answer to an older delivery is stale.
    private readonly Dictionary<long, long> _lastLease = [];
    private readonly Dictionary<long, DeadLetter> _deadLetters = [];
    // Offsets whose saved status (acknowledged, attempts, nack delay) may have changed since the last TakeChanges: a
    // save writes only these (CursorStateLog). Cleared by every save, so it holds what changed within one save interval.
    // Ranges, not a set of offsets: what changes between two saves is runs (leased, acked), so a steady drain adds to a
    // range or two and allocates nothing, however many messages one save interval holds.
    private readonly OffsetRanges _changed = new();
    // The delta TakeChanges hands out, filled anew by each call: saves run one at a time and read it before their first
    // await (ICursorStateLog), so its list keeps its room instead of a new list per save (the leased, unacknowledged
    // offsets of each save: a few kilobytes each, ~4 bytes per message in W2).
    private readonly CursorStateDelta _delta = new();
    // A delta list grown past this (a huge in-flight window saved once) is not kept at that size.
    private const int MaxKeptDeltaEntries = 16_384;
    // A seek (or anything else that changes the state wholesale) since the last save: the next save is a snapshot.
    private bool _resetNeeded;
    // Lease ids: unique per delivery. Random start, so that an answer to a delivery of an earlier activation of this
    // cursor cannot match one of this activation.
    private long _nextLeaseId = Random.Shared.NextInt64(long.MaxValue / 2);
    private DeliveryMode _mode;
    private int? _maxDeliveries = new GroupSettings().MaxDeliveries;
    private string? _owner;
    private DeliveryOutcome _outcome;

    public DeliveryState(TimeProvider time)
    {
        _time = time;
        _departed = new DepartedMembers(time);
    }

    /// <summary>Every offset below this one is done.</summary>
    public long Committed { get; private set; }

    /// <summary>Where the next fetch starts.</summary>
    public long FetchOffset { get; private set; }

    /// <summary>Expired messages so far (dropped, or dead-lettered as expired).</summary>
    public long Expired { get; private set; }

    /// <summary>Messages written to the dead-letter topic so far.</summary>
    public long DeadLettered { get; private set; }

    /// <summary>Messages skipped so far because retention deleted them or their records were lost.</summary>
    public long Skipped { get; private set; }

    /// <summary>True when expired messages are dropped rather than dead-lettered (the topic's setting).</summary>
    public bool DropExpired { get; set; }

    public DeliveryMode Mode => _mode;

    public int ReadyCount => _ready.Count;

    public int DelayedCount => _delayed.Count;

    public int InFlightCount => _inFlight.Count;

    public long AckedCount => _acked.Count;

    public int DeadLetterCount => _deadLetters.Count;

    /// <summary>False while the buffers are full: a fetch would bring nothing in.</summary>
    public bool CanFetch => _ready.Count < BufferLimit && _delayed.Count < DelayedLimit;

    /// <summary>How many messages a fetch may bring in now.</summary>
    public int FetchRoom => BufferLimit - _ready.Count;

    /// <summary>Nothing leased, to be read again, delayed or waiting to be dead-lettered: the tick has nothing to watch.</summary>
    public bool IsIdle => _inFlight.Count == 0 && _unread.Count == 0 && _delayed.Count == 0 && _deadLetters.Count == 0;

    /// <summary>
    /// Work that must be done even if nobody calls the cursor again (unacknowledged deliveries, delays, dead letters):
    /// the grain keeps a reminder while this holds.
    /// </summary>
    public bool HasPendingWork => _inFlight.Count > 0 || _attempts.Count > 0 || _retryAt.Count > 0 || _delayed.Count > 0 || _deadLetters.Count > 0;

    /// <summary>A message held in memory expires or is delayed.</summary>
    public bool HasTimedMessagesBuffered => _delayed.Count > 0 || _ready.Entries().Any(e => e.Value.Expires) || _inFlight.Entries().Any(l => l.Value.MessageExpires);

    /// <summary>What the grain must do for the changes since the last call; starts a new summary.</summary>
    public DeliveryOutcome TakeOutcome()
    {
        var outcome = _outcome;
        _outcome = default;
        return outcome;
    }

    /// <summary>
    /// Starts from saved state: <paramref name="committed"/>, the acknowledged offsets above it, the attempts of
    /// unacknowledged offsets and pending nack delays (Unix ms), and the counters.
    /// </summary>
    public void Restore(long committed, IEnumerable<long> ackedAbove, IReadOnlyDictionary<long, int> attempts,
        IReadOnlyDictionary<long, long> retryAt, long expired, long deadLettered, long skipped)
    {
        Committed = committed;
        FetchOffset = committed;
        _acked.Clear();
        foreach (long offset in ackedAbove)
        {
            if (offset >= committed) _acked.Add(offset);
        }
        Committed = _acked.AdvanceFrom(Committed);
        _attempts.Clear();
        foreach (var (offset, attempt) in attempts) _attempts[offset] = attempt;
        _retryAt.Clear();
        foreach (var (offset, due) in retryAt) _retryAt[offset] = due;
        (Expired, DeadLettered, Skipped) = (expired, deadLettered, skipped);
        _changed.Clear();
        _resetNeeded = false;
    }

    /// <summary>Deliveries and delays of an earlier activation are known: their timers must run again.</summary>
    public bool HasRestoredDeliveries => _attempts.Count > 0 || _retryAt.Count > 0;

    /// <summary>The acknowledged offsets above <see cref="Committed"/>, ascending (for saving).</summary>
    public IEnumerable<long> AckedAbove => _acked.Offsets();

    /// <summary>How often each unacknowledged offset was delivered (a copy, for saving).</summary>
    public Dictionary<long, int> CopyAttempts()
    {
        var attempts = new Dictionary<long, int>(_attempts);
        foreach (var (offset, lease) in _inFlight.Entries()) attempts[offset] = lease.Attempt;
        return attempts;
    }

    /// <summary>Pending nack delays, offset → not before (Unix ms) (a copy, for saving).</summary>
    public Dictionary<long, long> CopyRetryAt() => new(_retryAt);

    /// <summary>The attempts of <paramref name="offset"/> so far (0 when never delivered or done).</summary>
    public int AttemptsOf(long offset) =>
        _inFlight.TryGetValue(offset, out var lease) ? lease.Attempt : _attempts.GetValueOrDefault(offset);

    /// <summary>Messages that went back without their record bytes and wait to be read again (<see cref="RefillFrom"/>).</summary>
    public int UnreadCount => _unread.Count;

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    // ---- Members and settings -------------------------------------------------------------------------------------

    /// <summary>True when <paramref name="member"/> left: its pulls are refused (it rejoins under a new id).</summary>
    public bool HasDeparted(string member) => _departed.Contains(member);

    /// <summary>
    /// Takes new settings or a new owner from the group. A mode change gives every lease back: the rules of the old
    /// mode no longer hold, and the messages are handed out under the new one. Ordered, new owner: the old owner's
    /// leases stay with it until they end (<see cref="MayTake"/> waits for that).
    /// </summary>
    public void Configure(DeliveryMode mode, int? maxDeliveries, string? owner)
    {
        var previousMode = _mode;
        _mode = mode;
        _maxDeliveries = maxDeliveries;
        _owner = owner;
        if (previousMode != mode)
        {
            // Not ended as deliveries (no last-lease id kept: answers to them are stale), but counted, as before.
            foreach (var (offset, lease) in _inFlight.Entries().ToList())
            {
                _inFlight.Remove(offset);
                _members.Release(lease.Member);
                GoBack(offset, lease, lease.Attempt);
            }
            _keyHolds.Clear();
        }
        _outcome.Available = true;
    }

    /// <summary>
    /// False when the group is Ordered and the partition belongs to another member (or to none), or was just handed
    /// to this one and a former owner still holds leases: the new owner starts after the old one has finished (acked,
    /// nacked, or its leases expired), so that the two never work on the partition at the same time.
    /// </summary>
    public bool MayTake(string memberId) =>
        _mode != DeliveryMode.Ordered || (_owner == memberId && _members.LeasesOf(memberId) == _inFlight.Count);

    // ---- Pulls ----------------------------------------------------------------------------------------------------

    /// <summary>
    /// Leases up to <paramref name="maxMessages"/> ready messages to <paramref name="memberId"/> for
    /// <paramref name="lease"/>, lowest offsets first (so redeliveries go out before newer messages), adding them to
    /// <paramref name="taken"/> and their leases to <paramref name="leases"/> (same order; both lists are the
    /// caller's, kept from pull to pull). Ordered: only the owner takes, and nothing at or after a message waiting on
    /// a nack delay. KeyShared: a key held by another member, or waiting on a nack delay, is skipped with all its
    /// later messages. Expired messages and those delivered <c>MaxDeliveries</c> times already go to the dead-letter
    /// path (or, expired, are dropped when the topic says so) instead.
    /// </summary>
    public void Take(string memberId, int maxMessages, TimeSpan lease, List<BufferedMessage> taken, List<LeasedRecord> leases)
    {
        if (_ready.Count == 0 || !MayTake(memberId)) return;
        var mode = _mode;
        long nowMs = NowMs;
        long expiresAtMs = LeaseEnd(nowMs, lease);
        // Ordered: nothing at or after a message waiting on a nack delay or to be read again goes out before it.
        long orderedLimit = long.MaxValue;
        if (mode == DeliveryMode.Ordered)
        {
            if (_retryAt.Count > 0) orderedLimit = _retryAt.Keys.Min();
            if (_unread.Lowest is { } unread) orderedLimit = Math.Min(orderedLimit, unread);
        }
        HashSet<ulong>? blockedKeys = null;
        List<BufferedMessage>? done = null;
        // Behind a held key: they stay while the rest of their fetch goes, so they get buffers of their own.
        List<BufferedMessage>? waiting = null;
        int first = leases.Count;
        long payloadBytes = 0;
        int redelivered = 0;
        foreach (var (offset, message) in _ready.Entries())
        {
            if (leases.Count - first == maxMessages || offset >= orderedLimit) break;
            if (message.IsExpiredAt(nowMs))
            {
                (done ??= []).Add(message);
                continue;
            }
            if (mode == DeliveryMode.KeyShared && message.HasKey)
            {
                ulong key = message.KeyHash;
                if (blockedKeys?.Contains(key) == true)
                {
                    (waiting ??= []).Add(message);
                    continue;
                }
                // A key's messages after one to be read again wait for it.
                if (_keyHolds.IsHeldByAnother(key, memberId) || _retryKeys.ContainsKey(key)
                    || (_unreadKeys.TryGetValue(key, out var unreadKey) && offset > unreadKey.Lowest))
                {
                    (blockedKeys ??= []).Add(key);
                    (waiting ??= []).Add(message);
                    continue;
                }
            }
            int attempt = _attempts.GetValueOrDefault(offset) + 1;
            if (attempt > _maxDeliveries)
            {
                (done ??= []).Add(message);
                continue;
            }
            _attempts.Remove(offset);
            Touch(offset);
            long leaseId = ++_nextLeaseId;
            _inFlight.Set(offset, new Lease(leaseId, _members.Acquire(memberId), expiresAtMs, attempt, message.ExpiresAtMs,
                message.HasKey, message.KeyHash));
            if (mode == DeliveryMode.KeyShared && message.HasKey) _keyHolds.Add(message.KeyHash, memberId);
            taken.Add(message);
            leases.Add(new LeasedRecord(offset, attempt, leaseId));
            payloadBytes += message.PayloadLength;
            if (attempt > 1) redelivered++;
        }
        // The taken messages keep their buffer references: the pull releases them once it copied the records.
        for (int i = first; i < leases.Count; i++) _ready.TakeOut(leases[i].Offset, out _);
        if (waiting is not null)
        {
            foreach (var message in waiting) _ready.Set(message.Compact());
        }
        if (done is not null)
        {
            foreach (var message in done)
            {
                // Dead-lettered (a copy of its own) before it leaves the ready set: its buffer may go back then.
                if (message.IsExpiredAt(nowMs)) Expire(message);
                else QueueDeadLetter(message, GranaryHeaders.Reasons.MaxDeliveries, _attempts.GetValueOrDefault(message.Offset));
                _ready.Remove(message.Offset);
            }
        }
        int delivered = leases.Count - first;
        if (delivered > 0)
        {
            _outcome.Delivered += delivered;
            _outcome.DeliveredBytes += payloadBytes;
            _outcome.Redelivered += redelivered;
            _outcome.NeedsTick = true;
            _outcome.Changed = true;
        }
    }

    /// <summary>
    /// A pull copied the records of the messages <see cref="Take"/> gave it into its answer: the references they hold to
    /// their fetched buffers are released (a buffer goes back to the pool with its last message), and the list emptied.
    /// Nothing may read those messages' bytes afterwards.
    /// </summary>
    public static void ReleaseTaken(List<BufferedMessage> taken) => ReadySet.ReleaseTaken(taken);

    /// <summary>
    /// The cursor's activation ends: the ready messages (never saved; fetched again by the next activation) are dropped,
    /// so that their fetched buffers go back to the pool rather than to the garbage collector.
    /// </summary>
    public void DropReady() => _ready.Clear();

    private static long LeaseEnd(long nowMs, TimeSpan lease)
    {
        double ms = Math.Ceiling(lease.TotalMilliseconds);
        return ms >= long.MaxValue - nowMs ? long.MaxValue : nowMs + (long)ms;
    }

    // ---- Answers --------------------------------------------------------------------------------------------------

    /// <summary>How <paramref name="delivery"/>, answered by <paramref name="memberId"/>, stands to the message's current delivery.</summary>
    public LeaseStanding StandingOf(string memberId, LeaseRef delivery) => StandingOf(memberId, delivery.Offset, delivery.LeaseId);

    private LeaseStanding StandingOf(string memberId, long offset, long leaseId)
    {
        if (_inFlight.TryGetValue(offset, out var lease))
            return lease.Id == leaseId && _members.TryGetNumber(memberId, out int member) && lease.Member == member
                ? LeaseStanding.Current : LeaseStanding.Stale;
        if (offset < Committed || _acked.Contains(offset)) return LeaseStanding.Done;
        // On its way to the dead-letter topic: as if given to someone since. Taking the late ack would leave a message
        // that was processed and acknowledged in the dead-letter topic too (a letter being written cannot be recalled).
        if (_deadLetters.ContainsKey(offset)) return LeaseStanding.Stale;
        return _lastLease.TryGetValue(offset, out long last) && last == leaseId ? LeaseStanding.Ended : LeaseStanding.Stale;
    }

    /// <summary>
    /// Acknowledges <paramref name="deliveries"/>: a current delivery, or one whose lease ended with nobody given the
    /// message since (the work was done), marks the message done; an ack of a done message changes nothing. Returns
    /// the stale ones (another delivery came after them, or they are from before a seek or restart): refused.
    /// </summary>
    public LeaseRef[] Ack(string memberId, LeaseRef[] deliveries)
    {
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
        if (_mode != DeliveryMode.Shared) _outcome.Available = true;
        return refused is null ? [] : [.. refused];
    }

    /// <summary>
    /// As <see cref="Ack(string, LeaseRef[])"/>, for deliveries named as runs: no object per delivery, only one per
    /// refused delivery. Checks the runs first (count at least 1, no offset or lease id past the largest, at most
    /// <see cref="LeaseRun.MaxPerCall"/> deliveries in all): bad runs are refused with
    /// <see cref="GranaryErrorCode.InvalidArgument"/> before anything changes.
    /// </summary>
    public LeaseRef[] AckRuns(string memberId, ReadOnlySpan<LeaseRun> runs)
    {
        long total = 0;
        foreach (var run in runs)
        {
            if (run.Count < 1 || run.Offset < 0 || run.Offset > long.MaxValue - run.Count || run.LeaseId > long.MaxValue - run.Count)
                throw new GranaryException(GranaryErrorCode.InvalidArgument,
                    $"An ack run needs a positive count and offsets and lease ids that fit (offset {run.Offset}, lease {run.LeaseId}, count {run.Count}).");
            total += run.Count;
            if (total > LeaseRun.MaxPerCall)
                throw new GranaryException(GranaryErrorCode.InvalidArgument, $"An ack call names at most {LeaseRun.MaxPerCall} deliveries.");
        }
        List<LeaseRef>? refused = null;
        foreach (var run in runs)
        {
            for (int i = 0; i < run.Count; i++)
            {
                long offset = run.Offset + i, leaseId = run.LeaseId + i;
                switch (StandingOf(memberId, offset, leaseId))
                {
                    case LeaseStanding.Current or LeaseStanding.Ended:
                        MarkDone(offset);
                        break;
                    case LeaseStanding.Stale:
                        (refused ??= []).Add(new LeaseRef(offset, leaseId));
                        break;
                }
            }
        }
        AdvanceCommitted();
        if (_mode != DeliveryMode.Shared) _outcome.Available = true;
        return refused is null ? [] : [.. refused];
    }

    /// <summary>
    /// Gives current deliveries back, to go out again at once or after <paramref name="delay"/>; each counts as a
    /// delivery attempt. Under the ordered modes the later leases of the partition (Ordered) or key (KeyShared) are
    /// taken back (revoked) behind them. Answers other than current ones are refused.
    /// </summary>
    public SettleResult Nack(string memberId, LeaseRef[] deliveries, TimeSpan delay)
    {
        var revoked = new List<LeaseRef>();
        List<LeaseRef>? refused = null;
        long dueMs = delay > TimeSpan.Zero ? NowMs + (long)delay.TotalMilliseconds : 0;
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
            _inFlight.TryGetValue(offset, out var lease);
            EndLease(offset, lease);
            // Read again, then held until due (Offer: the delay is in _retryAt) or ready at once.
            if (dueMs > 0) _retryAt[offset] = dueMs; // saved: GoBack marks the offset changed
            GoBack(offset, lease, lease.Attempt);
            TakeBackLaterThan(offset, lease, revoked, nacked);
        }
        _outcome.Changed = true;
        _outcome.NeedsTick = true;
        _outcome.Available = true;
        return new SettleResult(refused is null ? [] : [.. refused], [.. revoked]);
    }

    /// <summary>Sends current deliveries to the dead-letter topic (reason rejected, or the one given); other answers are refused.</summary>
    public LeaseRef[] Reject(string memberId, LeaseRef[] deliveries, RejectReason reason = RejectReason.Rejected)
    {
        List<LeaseRef>? refused = null;
        foreach (var delivery in deliveries)
        {
            if (StandingOf(memberId, delivery) != LeaseStanding.Current)
            {
                (refused ??= []).Add(delivery);
                continue;
            }
            _inFlight.TryGetValue(delivery.Offset, out var lease);
            EndLease(delivery.Offset, lease);
            // The letter needs the record: it is queued once the message is read again (Refill).
            GoBack(delivery.Offset, lease, lease.Attempt, reason);
        }
        // As with an ack: a reject can free a key (KeyShared) or end a former owner's last lease (Ordered).
        if (_mode != DeliveryMode.Shared) _outcome.Available = true;
        return refused is null ? [] : [.. refused];
    }

    /// <summary>Extends current leases to end <paramref name="lease"/> from now; returns those extended.</summary>
    public LeaseRef[] Extend(string memberId, LeaseRef[] deliveries, TimeSpan lease)
    {
        long expiresAtMs = LeaseEnd(NowMs, lease);
        var extended = new List<LeaseRef>();
        foreach (var delivery in deliveries)
        {
            if (StandingOf(memberId, delivery) != LeaseStanding.Current) continue;
            _inFlight.TryGetValue(delivery.Offset, out var current);
            _inFlight.Set(delivery.Offset, current.ExtendedTo(expiresAtMs));
            extended.Add(delivery);
        }
        return [.. extended];
    }

    /// <summary>
    /// A member leaves with deliveries it never handed to its application (<paramref name="unseen"/>): they go back
    /// as take-backs, not deliveries (their attempts are not counted), and the member's pulls are refused from now on.
    /// </summary>
    public void ReleaseUnseen(string memberId, LeaseRef[] unseen)
    {
        // Before the release: a pull of this member waiting now must not take the messages again.
        _departed.Add(memberId);
        var releasing = unseen.Where(d => StandingOf(memberId, d) == LeaseStanding.Current).Select(d => d.Offset).ToHashSet();
        foreach (long offset in releasing.Order())
        {
            _inFlight.TryGetValue(offset, out var lease);
            EndLease(offset, lease);
            GoBack(offset, lease, lease.Attempt - 1); // uncounted
            TakeBackLaterThan(offset, lease, revoked: null, except: releasing);
        }
        if (releasing.Count == 0) return;
        _outcome.Changed = true;
        _outcome.Available = true;
    }

    /// <summary>A member left (or was dropped): its leases end, each counting as a delivery, and its pulls are refused.</summary>
    public void ReleaseMember(string memberId)
    {
        _departed.Add(memberId);
        var leases = _members.TryGetNumber(memberId, out int member)
            ? _inFlight.Entries().Where(l => l.Value.Member == member).ToList() : [];
        var ending = leases.Select(l => l.Offset).ToHashSet();
        foreach (var (offset, lease) in leases) ReturnLease(offset, lease, ending);
        _outcome.Available = true;
    }

    /// <summary>
    /// Moves the cursor to <paramref name="offset"/>: every message held, every lease (answers to them are stale from
    /// now), the acknowledged set, attempts, delays and queued dead letters are forgotten.
    /// </summary>
    public void Seek(long offset)
    {
        _ready.Clear();
        _delayed.Clear();
        _dueAt.Clear();
        _inFlight.Clear();
        _members.Clear();
        _unread.Clear();
        _unreadKeys.Clear();
        _keyHolds.Clear();
        _retryKeys.Clear();
        _acked.Clear();
        _attempts.Clear();
        _retryAt.Clear();
        _lastLease.Clear();
        _deadLetters.Clear();
        Committed = offset;
        FetchOffset = offset;
        _changed.Clear();
        _resetNeeded = true;
        _outcome.Changed = true;
        _outcome.NeedsTick = true;
        _outcome.Available = true;
    }

    // ---- Leases ending --------------------------------------------------------------------------------------------

    /// <summary>Forgets a lease (the message is acked, given back or dead-lettered).</summary>
    private void EndLease(long offset, in Lease lease, bool remember = true)
    {
        _inFlight.Remove(offset);
        Touch(offset); // the lease held the message's attempt count
        _members.Release(lease.Member);
        // Only a lease that ended with its message not done needs remembering (while in flight its id is in
        // _inFlight; once done, every answer is Done): no map entry per message on the usual lease-then-ack path.
        if (remember) _lastLease[offset] = lease.Id;
        if (lease.HasKey) _keyHolds.Remove(lease.KeyHash);
    }

    /// <summary>
    /// A message whose lease ended without an ack goes back, with <paramref name="attempts"/> deliveries counted so
    /// far. In-flight messages keep no record bytes: it is read again from the partition (the grain fetches from
    /// <see cref="RefillFrom"/>) and is then ready, held for its nack delay, or (<paramref name="rejected"/>)
    /// dead-lettered. Until then it keeps its place: Ordered takes nothing from its offset on, KeyShared nothing of its key.
    /// </summary>
    private void GoBack(long offset, in Lease lease, int attempts, RejectReason rejected = RejectReason.None)
    {
        if (attempts > 0) _attempts[offset] = attempts;
        else _attempts.Remove(offset);
        Touch(offset);
        _unread.Set(offset, new UnreadMessage(lease.HasKey, lease.KeyHash, rejected));
        if (lease.HasKey)
        {
            ref var key = ref CollectionsMarshal.GetValueRefOrAddDefault(_unreadKeys, lease.KeyHash, out bool exists);
            key = exists ? new UnreadKey(key.Count + 1, Math.Min(key.Lowest, offset)) : new UnreadKey(1, offset);
        }
        _outcome.RefillNeeded = true;
    }

    /// <summary>The message at <paramref name="offset"/> was read again, or is done or gone: no longer unread.</summary>
    private bool RemoveUnread(long offset, out UnreadMessage unread)
    {
        if (!_unread.TryGetValue(offset, out unread)) return false;
        _unread.Remove(offset);
        ulong keyHash = unread.KeyHash;
        if (unread.HasKey && _unreadKeys.TryGetValue(keyHash, out var key))
        {
            if (key.Count <= 1)
            {
                _unreadKeys.Remove(keyHash);
            }
            else
            {
                // Refills go lowest first, so the key's next unread message is usually a few entries on.
                long lowest = key.Lowest != offset ? key.Lowest
                    : _unread.Entries().First(e => e.Value.HasKey && e.Value.KeyHash == keyHash).Offset;
                _unreadKeys[keyHash] = new UnreadKey(key.Count - 1, lowest);
            }
        }
        return true;
    }

    /// <summary>
    /// Under the ordered modes a message that goes back must go out again before anything after it: later leases
    /// of the same partition (Ordered) or key (KeyShared) are taken back. A take-back is not a
    /// delivery attempt (the member was told to drop the message, and a consumer never hands a later message of a
    /// key to its handler before the earlier one is done): the attempt count goes back to what it was before, so that
    /// a poison message cannot use up the deliveries of the healthy messages behind it. Offsets in
    /// <paramref name="except"/> are going back themselves (nacked in the same call) and are left alone.
    /// </summary>
    private void TakeBackLaterThan(long offset, in Lease returned, List<LeaseRef>? revoked, HashSet<long>? except = null)
    {
        var mode = _mode;
        if (mode == DeliveryMode.Shared || (mode == DeliveryMode.KeyShared && !returned.HasKey)) return;
        ulong key = returned.KeyHash;
        var later = _inFlight.Entries().Where(l => l.Offset > offset && except?.Contains(l.Offset) != true
            && (mode == DeliveryMode.Ordered || (l.Value.HasKey && l.Value.KeyHash == key))).ToList();
        foreach (var (laterOffset, lease) in later)
        {
            EndLease(laterOffset, lease);
            GoBack(laterOffset, lease, lease.Attempt - 1); // uncounted
            revoked?.Add(new LeaseRef(laterOffset, lease.Id));
        }
        if (later.Count > 0) _outcome.Changed = true;
    }

    /// <summary>
    /// A lease that ended without an ack: the message goes back (and, in the ordered modes, goes first).
    /// <paramref name="ending"/> holds the offsets whose leases end now too and count as ended deliveries (of a member
    /// that left: all its leases; expired: see <see cref="ExpireLeases"/>): those are not taken back (uncounted) here.
    /// </summary>
    private void ReturnLease(long offset, in Lease lease, HashSet<long> ending)
    {
        EndLease(offset, lease);
        GoBack(offset, lease, lease.Attempt);
        TakeBackLaterThan(offset, lease, revoked: null, except: ending);
    }

    /// <summary>
    /// Returns the leases whose time ran out. Shared: each counts as a delivery attempt. Ordered modes: the leases of
    /// one pull share one end, so the messages behind a stuck one (which the consumer never handed to its handler:
    /// it waits on the stuck one) run out in the same tick; only the lowest expired lease of each key (KeyShared) or
    /// of the partition (Ordered) counts, the later ones are taken back behind it, uncounted. Otherwise a poison
    /// message that hangs its handler would use up the deliveries of every message prefetched with it.
    /// </summary>
    private void ExpireLeases(long nowMs)
    {
        var expired = _inFlight.Entries().Where(l => l.Value.ExpiresAtMs <= nowMs).ToList();
        if (expired.Count == 0) return;
        var counted = CountedOnExpiry(expired);
        foreach (var (offset, lease) in expired)
        {
            // Taken back already, behind a lower expired lease of its key or partition.
            if (!_inFlight.TryGetValue(offset, out var current) || current.Id != lease.Id) continue;
            ReturnLease(offset, lease, counted);
        }
        _outcome.Available = true;
    }

    /// <summary>
    /// The offsets among <paramref name="expired"/> (ascending) whose expiry counts as a delivery attempt: all of them
    /// under Shared and for KeyShared messages without a key; else the lowest per member and key (KeyShared) or per
    /// member (Ordered).
    /// </summary>
    private HashSet<long> CountedOnExpiry(List<(long Offset, Lease Value)> expired)
    {
        var mode = _mode;
        if (mode == DeliveryMode.Shared) return expired.Select(l => l.Offset).ToHashSet();
        var counted = new HashSet<long>();
        var membersSeen = new HashSet<int>();
        var keysSeen = new HashSet<(int Member, ulong Key)>();
        foreach (var (offset, lease) in expired)
        {
            bool first = mode == DeliveryMode.Ordered ? membersSeen.Add(lease.Member)
                : !lease.HasKey || keysSeen.Add((lease.Member, lease.KeyHash));
            if (first) counted.Add(offset);
        }
        return counted;
    }

    // ---- Delays and expiry ----------------------------------------------------------------------------------------

    /// <summary>
    /// The clock's work, run by the grain's periodic tick: expired leases come back, delayed messages whose time has
    /// come are ready, expired messages waiting in memory leave (dropped or dead-lettered).
    /// </summary>
    public void Tick()
    {
        long nowMs = NowMs;
        ExpireLeases(nowMs);
        ReleaseDueMessages(nowMs);
        ExpireBuffered(nowMs);
    }

    /// <summary>Holds a message back until <paramref name="dueMs"/> (a deliver-at time, or a nack delay when <paramref name="retry"/>).</summary>
    private void Hold(BufferedMessage message, long dueMs, bool retry)
    {
        _delayed[message.Offset] = message.Compact(); // may wait long: not with its whole fetch
        _dueAt[message.Offset] = dueMs;
        if (retry && message.HasKey) _retryKeys[message.KeyHash] = _retryKeys.GetValueOrDefault(message.KeyHash) + 1;
        _outcome.NeedsTick = true;
    }

    /// <summary>Moves delayed messages whose time has come to the ready set.</summary>
    private void ReleaseDueMessages(long nowMs)
    {
        if (_delayed.Count == 0) return;
        var due = _delayed.Keys.Where(o => _dueAt[o] <= nowMs).ToList();
        foreach (long offset in due) Unhold(offset, ready: true);
        if (due.Count > 0)
        {
            _outcome.Changed = true;
            _outcome.Available = true;
        }
    }

    private BufferedMessage Unhold(long offset, bool ready)
    {
        var message = _delayed[offset];
        _delayed.Remove(offset);
        _dueAt.Remove(offset);
        ulong key = message.KeyHash;
        bool retried = _retryAt.Remove(offset);
        if (retried) Touch(offset);
        if (retried && message.HasKey && _retryKeys.TryGetValue(key, out int count))
        {
            if (count <= 1) _retryKeys.Remove(key);
            else _retryKeys[key] = count - 1;
        }
        if (ready) _ready.Set(message);
        return message;
    }

    /// <summary>Expired messages never go out: those waiting in memory leave now.</summary>
    private void ExpireBuffered(long nowMs)
    {
        foreach (var message in _ready.Entries().Select(e => e.Value).Where(m => m.IsExpiredAt(nowMs)).ToList())
        {
            // Dead-lettered (a copy of its own) before it leaves the ready set: its buffer may go back then.
            Expire(message);
            _ready.Remove(message.Offset);
        }
        foreach (long offset in _delayed.Where(d => d.Value.IsExpiredAt(nowMs)).Select(d => d.Key).ToList())
            Expire(Unhold(offset, ready: false));
    }

    /// <summary>An expired message, taken out of every set already: dropped (when the topic says so) or dead-lettered.</summary>
    private void Expire(BufferedMessage message)
    {
        if (DropExpired)
        {
            Expired++;
            _outcome.ExpiredDropped++;
            MarkDone(message.Offset);
            AdvanceCommitted();
        }
        else
        {
            QueueDeadLetter(message, GranaryHeaders.Reasons.Expired, _attempts.GetValueOrDefault(message.Offset));
        }
    }

    // ---- Dead letters ---------------------------------------------------------------------------------------------

    private void QueueDeadLetter(BufferedMessage message, string reason, int attempts)
    {
        // A copy of its own: it waits for the dead-letter write, and the fetched buffer it came in goes back without it.
        _deadLetters[message.Offset] = new DeadLetter(message.Compact(), reason, attempts);
        _outcome.NeedsTick = true;
        _outcome.DeadLettersQueued = true;
    }

    /// <summary>The next dead letters to write, lowest offsets first.</summary>
    public List<DeadLetter> NextDeadLetters(int max) => [.. _deadLetters.Values.OrderBy(d => d.Message.Offset).Take(max)];

    /// <summary>
    /// <paramref name="letters"/> are in the dead-letter topic: they are done, and counted. Returns how many of each
    /// reason were still pending (retention may have skipped some meanwhile: those were counted there).
    /// </summary>
    public (int MaxDeliveries, int Expired, int Rejected, int Deserialization) DeadLettersWritten(IEnumerable<DeadLetter> letters)
    {
        int maxDeliveries = 0, expired = 0, rejected = 0, deserialization = 0;
        foreach (var letter in letters)
        {
            long offset = letter.Message.Offset;
            if (!_deadLetters.Remove(offset) || offset < Committed || _acked.Contains(offset)) continue;
            MarkDone(offset);
            DeadLettered++;
            switch (letter.Reason)
            {
                case GranaryHeaders.Reasons.Expired: Expired++; expired++; break;
                case GranaryHeaders.Reasons.Rejected: rejected++; break;
                case GranaryHeaders.Reasons.Deserialization: deserialization++; break;
                default: maxDeliveries++; break;
            }
        }
        AdvanceCommitted();
        return (maxDeliveries, expired, rejected, deserialization);
    }

    // ---- Fetched messages -----------------------------------------------------------------------------------------

    /// <summary>
    /// The partition's earliest retained offset, from a fetch: when retention deleted messages this group never
    /// acknowledged, they cannot be delivered or acknowledged any more, so every trace of them goes and the cursor
    /// moves past them, counting them as skipped.
    /// </summary>
    public void RetainedFrom(long start)
    {
        if (start <= Committed) return;
        ForgetBelow(start, lost: false);
        AdvanceCommitted();
    }

    private void ForgetBelow(long start, bool lost)
    {
        // Messages delivered and not yet acknowledged were handed out: their acks are lost, not the messages.
        long skipped = start - Committed - _acked.CountBelow(start) - _inFlight.Below(start).Count();
        Skipped += skipped;
        if (lost) _outcome.LostSkipped = (_outcome.LostSkipped ?? 0) + skipped;
        else _outcome.RetentionSkipped = (_outcome.RetentionSkipped ?? 0) + skipped;
        foreach (var (gone, _) in _ready.Below(start).ToList()) _ready.Remove(gone);
        foreach (long gone in _delayed.Keys.Where(o => o < start).ToList()) Unhold(gone, ready: false);
        foreach (var (gone, lease) in _inFlight.Below(start).ToList()) EndLease(gone, lease);
        foreach (var (gone, _) in _unread.Below(start).ToList()) RemoveUnread(gone, out _);
        foreach (long gone in _attempts.Keys.Where(o => o < start).ToList()) _attempts.Remove(gone);
        foreach (long gone in _retryAt.Keys.Where(o => o < start).ToList()) _retryAt.Remove(gone);
        foreach (long gone in _lastLease.Keys.Where(o => o < start).ToList()) _lastLease.Remove(gone);
        foreach (long gone in _deadLetters.Keys.Where(o => o < start).ToList()) _deadLetters.Remove(gone);
        _acked.RemoveBelow(start);
        Committed = start;
    }

    /// <summary>True when a fetched <paramref name="offset"/> is new to the cursor (not done, held or on its way out).</summary>
    public bool IsNew(long offset) =>
        offset >= Committed && !_acked.Contains(offset) && !_inFlight.Contains(offset) && !_unread.Contains(offset)
        && !_delayed.ContainsKey(offset)
        && !_deadLetters.ContainsKey(offset);

    /// <summary>
    /// A fetched message (<see cref="IsNew"/>): done at once when it is addressed to another group (a redrive), held
    /// while a nack delay or its deliver-at time is ahead, else ready.
    /// </summary>
    public void Offer(BufferedMessage message, bool forAnotherGroup)
    {
        long offset = message.Offset;
        if (message.Expires || message.IsDelayed) _outcome.TimedMessagesFetched = true;
        long nowMs = NowMs;
        if (forAnotherGroup)
        {
            MarkDone(offset);
            AdvanceCommitted();
        }
        else if (_retryAt.TryGetValue(offset, out long retryAt) && retryAt > nowMs)
        {
            Hold(message, retryAt, retry: true);
        }
        else if (message.DeliverAtMs > nowMs)
        {
            if (_retryAt.Remove(offset)) Touch(offset);
            Hold(message, message.DeliverAtMs, retry: false);
        }
        else
        {
            if (_retryAt.Remove(offset)) Touch(offset);
            if (_ready.TryAdd(message)) _outcome.Available = true;
        }
    }

    /// <summary>
    /// The lowest offset of a message that went back without its record bytes (see <see cref="GoBack"/>): the grain
    /// reads the partition from here, hands each record read to <see cref="Refill"/> when <see cref="IsUnread"/>, then
    /// calls <see cref="RefilledTo"/>. Null when none waits.
    /// </summary>
    public long? RefillFrom => _unread.Lowest;

    /// <summary>True when <paramref name="offset"/> went back and waits to be read again.</summary>
    public bool IsUnread(long offset) => _unread.Contains(offset);

    /// <summary>
    /// A message that went back, read again (<see cref="IsUnread"/>): rejected, it goes to the dead-letter path;
    /// expired, it is dropped or dead-lettered; else it is offered as a fetched message is (held for a nack delay still
    /// ahead, or ready).
    /// </summary>
    public void Refill(BufferedMessage message, bool forAnotherGroup)
    {
        long offset = message.Offset;
        if (!RemoveUnread(offset, out var unread)) return;
        if (unread.Rejected != RejectReason.None)
        {
            QueueDeadLetter(message.Compact(), unread.Rejected.ToHeader(), _attempts.GetValueOrDefault(offset));
        }
        else if (!forAnotherGroup && message.IsExpiredAt(NowMs))
        {
            Expire(message.Compact());
        }
        else
        {
            // Its own buffer: scattered among acknowledged ones, it would otherwise keep the whole read alive.
            Offer(message.Compact(), forAnotherGroup);
        }
        _outcome.Available = true;
    }

    /// <summary>
    /// A read for <see cref="RefillFrom"/> returned every record from <paramref name="fromOffset"/> up to
    /// <paramref name="nextOffset"/>: a message in that range that went back and was not among them is no longer in
    /// the partition (lost), so it counts as skipped and done. (Messages that went back below the read's start while
    /// it ran are left for the next read.)
    /// </summary>
    public void RefilledTo(long fromOffset, long nextOffset)
    {
        var missing = _unread.Below(nextOffset).Where(u => u.Offset >= fromOffset).Select(u => u.Offset).ToList();
        if (missing.Count == 0) return;
        foreach (long offset in missing) MarkDone(offset);
        Skipped += missing.Count;
        _outcome.LostSkipped = (_outcome.LostSkipped ?? 0) + missing.Count;
        AdvanceCommitted();
    }

    /// <summary>A fetch read up to <paramref name="nextOffset"/>: the next one starts there.</summary>
    public void FetchedTo(long nextOffset) => FetchOffset = Math.Max(FetchOffset, nextOffset);

    /// <summary>
    /// The partition reported offsets [<paramref name="from"/>, <paramref name="to"/>) lost (a missing segment file,
    /// damaged data): they can never be delivered, so they count as skipped and as done.
    /// </summary>
    public void SkipLost(long from, long to)
    {
        if (to <= Committed) return;
        if (from <= Committed)
        {
            ForgetBelow(to, lost: true);
        }
        else
        {
            long skipped = 0;
            for (long offset = from; offset < to; offset++)
            {
                if (_acked.Contains(offset) || _inFlight.Contains(offset)) continue;
                MarkDone(offset);
                skipped++;
            }
            Skipped += skipped;
            _outcome.LostSkipped = (_outcome.LostSkipped ?? 0) + skipped;
        }
        AdvanceCommitted();
    }

    /// <summary>The lowest message held in memory at or above <see cref="Committed"/>, if any.</summary>
    public BufferedMessage? LowestHeld()
    {
        BufferedMessage? lowest = null;
        // In-flight and unread messages keep no record: the grain reads the partition for those.
        foreach (var m in _ready.Entries().Select(e => e.Value).Concat(_delayed.Values))
        {
            if (m.Offset >= Committed && (lowest is null || m.Offset < lowest.Value.Offset)) lowest = m;
        }
        return lowest;
    }

    // ---- Done -----------------------------------------------------------------------------------------------------

    /// <summary>Marks an offset done (acked, dead-lettered, expired, skipped), wherever the message is now.</summary>
    private void MarkDone(long offset)
    {
        if (offset < Committed || _acked.Contains(offset)) return;
        // A late ack (lease ended, nobody given the message since: see StandingOf) still counts: the work was done.
        if (_inFlight.TryGetValue(offset, out var lease)) EndLease(offset, lease, remember: false);
        else if (!_ready.Remove(offset) && !RemoveUnread(offset, out _) && _delayed.ContainsKey(offset)) Unhold(offset, ready: false);
        // The usual case, acks in order: the committed offset moves at once, with no range kept for it.
        if (offset == Committed) Committed = _acked.AdvanceFrom(Committed + 1);
        else _acked.Add(offset);
        _attempts.Remove(offset);
        _retryAt.Remove(offset);
        _lastLease.Remove(offset);
        Touch(offset);
    }

    private void AdvanceCommitted()
    {
        Committed = _acked.AdvanceFrom(Committed);
        _outcome.Changed = true;
        _outcome.CommittedMoved = true;
    }

    // ---- Saving ---------------------------------------------------------------------------------------------------

    private void Touch(long offset) => _changed.Add(offset);

    /// <summary>
    /// What changed in the saved state since the last call (or restore): the committed offset and counters, and the
    /// current status of every offset whose acknowledged, attempts or nack-delay status changed. Null when the state
    /// changed wholesale (a seek): then only a <see cref="ToSnapshot"/> describes it. Starts tracking anew. The delta is
    /// this state's own and is filled anew by the next call: read (encode) it before then.
    /// </summary>
    public CursorStateDelta? TakeChanges()
    {
        bool reset = _resetNeeded;
        _resetNeeded = false;
        if (reset)
        {
            _changed.Clear();
            return null;
        }
        // Sized to its entries, counted first, not grown entry by entry: under load most changed offsets are below the
        // committed one by the save (acked in order), so _changed.Count would be far too many.
        var changed = _changed.Ranges;
        long entries = 0;
        for (int i = 0; i < changed.Count; i++)
        {
            if (changed[i].End > Committed) entries += changed[i].End - Math.Max(changed[i].Start, Committed);
        }
        var delta = _delta;
        (delta.Committed, delta.Expired, delta.DeadLettered, delta.Skipped) = (Committed, Expired, DeadLettered, Skipped);
        var offsets = delta.Offsets;
        offsets.Clear();
        if (offsets.Capacity > MaxKeptDeltaEntries && entries <= MaxKeptDeltaEntries) offsets.Capacity = (int)entries;
        else offsets.EnsureCapacity((int)entries);
        // Ascending, as the ranges are: the delta lists its offsets in order.
        for (int i = 0; i < changed.Count; i++)
        {
            // Below the committed offset everything is done, and the replay drops it: no entry needed.
            for (long offset = Math.Max(changed[i].Start, Committed); offset < changed[i].End; offset++)
            {
                bool acked = _acked.Contains(offset);
                offsets.Add(new CursorOffsetStatus(offset, acked, acked ? 0 : AttemptsOf(offset),
                    !acked && _retryAt.TryGetValue(offset, out long due) ? due : null));
            }
        }
        _changed.Clear();
        return delta;
    }

    /// <summary>The whole saved state: committed offset, acknowledged ranges, attempts (leased ones included), nack delays, counters.</summary>
    public CursorStateSnapshot ToSnapshot() => new()
    {
        Committed = Committed,
        Acked = [.. _acked.Ranges],
        Attempts = CopyAttempts(),
        RetryAt = CopyRetryAt(),
        Expired = Expired,
        DeadLettered = DeadLettered,
        Skipped = Skipped,
    };

    /// <summary>Starts from a saved snapshot (then <see cref="Replay"/> the deltas saved after it).</summary>
    public void Restore(CursorStateSnapshot snapshot)
    {
        Restore(snapshot.Committed, [], snapshot.Attempts, snapshot.RetryAt, snapshot.Expired, snapshot.DeadLettered, snapshot.Skipped);
        foreach (var (start, end) in snapshot.Acked) _acked.AddRange(Math.Max(start, Committed), end);
        Committed = _acked.AdvanceFrom(Committed);
        FetchOffset = Committed;
    }

    /// <summary>
    /// Applies a delta saved after the snapshot given to <see cref="Restore(CursorStateSnapshot)"/> (and the deltas
    /// before it): each offset takes its saved status, the committed offset and counters their saved values, and
    /// everything below the committed offset is dropped.
    /// </summary>
    public void Replay(CursorStateDelta delta)
    {
        foreach (var status in delta.Offsets)
        {
            long offset = status.Offset;
            if (offset < delta.Committed) continue;
            if (status.Acked)
            {
                _acked.Add(offset);
                _attempts.Remove(offset);
                _retryAt.Remove(offset);
                continue;
            }
            if (status.Attempts != 0) _attempts[offset] = status.Attempts;
            else _attempts.Remove(offset);
            if (status.RetryAtMs is { } due) _retryAt[offset] = due;
            else _retryAt.Remove(offset);
        }
        Committed = delta.Committed;
        _acked.RemoveBelow(Committed);
        foreach (long gone in _attempts.Keys.Where(o => o < Committed).ToList()) _attempts.Remove(gone);
        foreach (long gone in _retryAt.Keys.Where(o => o < Committed).ToList()) _retryAt.Remove(gone);
        Committed = _acked.AdvanceFrom(Committed);
        FetchOffset = Committed;
        (Expired, DeadLettered, Skipped) = (delta.Expired, delta.DeadLettered, delta.Skipped);
        _changed.Clear();
        _resetNeeded = false;
    }
}
