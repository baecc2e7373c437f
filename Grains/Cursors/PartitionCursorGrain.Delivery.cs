using System.Runtime.InteropServices;
using Granary.Grains.Diagnostics;

namespace Granary.Grains.Cursors;

// Leasing under the delivery modes, and giving messages back.
internal sealed partial class PartitionCursorGrain
{
    // The lease id of each message's latest delivery once that lease ended, until the message is done: an answer to
    // that delivery is still taken as long as nobody was given the message since. Not persisted (leases are
    // not): after a restart every answer to an older delivery is stale.
    private readonly Dictionary<long, long> _lastLease = [];
    // Lease ids: unique per delivery. Random start, so that an answer to a delivery of an earlier activation of this
    // cursor cannot match one of this activation.
    private long _nextLeaseId = Random.Shared.NextInt64(long.MaxValue / 2);
    private readonly List<BufferedMessage> _taking = [];
    private readonly List<LeasedRecord> _leasing = [];

    /// <summary>How an answer (ack, nack, reject, extend) stands to the message's current delivery.</summary>
    private enum LeaseStanding
    {
        /// <summary>Its lease is the message's current one.</summary>
        Current,
        /// <summary>Its lease ended (expired, taken back, member left) and nobody was given the message since.</summary>
        Ended,
        /// <summary>The message is done already (acked, dead-lettered, expired, skipped).</summary>
        Done,
        /// <summary>Another delivery came after it, or it is from before a seek or a restart.</summary>
        Stale,
    }

    private LeaseStanding StandingOf(string memberId, LeaseRef delivery)
    {
        long offset = delivery.Offset;
        if (_inFlight.TryGetValue(offset, out var lease))
            return lease.Id == delivery.LeaseId && lease.Member == memberId ? LeaseStanding.Current : LeaseStanding.Stale;
        if (offset < _committed || _acked.Contains(offset)) return LeaseStanding.Done;
        return _lastLease.TryGetValue(offset, out long last) && last == delivery.LeaseId ? LeaseStanding.Ended : LeaseStanding.Stale;
    }

    /// <summary>
    /// False when the group is Ordered and the partition belongs to another member (or to none), or was just handed
    /// to this one and a former owner still holds leases: the new owner starts after the old one has finished (acked,
    /// nacked, or its leases expired), so that the two never work on the partition at the same time.
    /// </summary>
    private bool MayTake(string memberId) =>
        _settings.Mode != DeliveryMode.Ordered || (_owner == memberId && _inFlight.Values.All(l => l.Member == memberId));

    /// <summary>
    /// Leases up to <paramref name="maxMessages"/> ready messages, lowest offsets first (so redeliveries go out before
    /// newer messages). Ordered: only the owner takes, and nothing at or after a message waiting on a nack delay.
    /// KeyShared: a key held by another member, or waiting on a nack delay, is skipped with all its later messages.
    /// Expired messages and those delivered <c>MaxDeliveries</c> times already go to the dead-letter path instead.
    /// </summary>
    private PullResult Take(string memberId, int maxMessages, TimeSpan lease)
    {
        if (_ready.Count == 0 || !MayTake(memberId)) return PullResult.Empty(_partition);
        var mode = _settings.Mode;
        long nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var expiresAt = DateTime.UtcNow + lease;
        long orderedLimit = mode == DeliveryMode.Ordered && _retryAt.Count > 0 ? _retryAt.Keys.Min() : long.MaxValue;
        HashSet<ulong>? blockedKeys = null;
        List<BufferedMessage>? done = null;
        // Behind a held key: they stay while the rest of their fetch goes, so they get buffers of their own.
        List<BufferedMessage>? waiting = null;
        // The leased records and their leases, in offset order, in lists kept from pull to pull (Take runs in one
        // turn, never interleaved): no garbage per message besides the answer itself.
        var taken = _taking;
        var deliveries = _leasing;
        taken.Clear();
        deliveries.Clear();
        long payloadBytes = 0;
        int redelivered = 0;
        foreach (var (offset, message) in _ready)
        {
            if (deliveries.Count == maxMessages || offset >= orderedLimit) break;
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
                if ((_keyHolders.TryGetValue(key, out var hold) && hold.Member != memberId) || _retryKeys.ContainsKey(key))
                {
                    (blockedKeys ??= []).Add(key);
                    (waiting ??= []).Add(message);
                    continue;
                }
            }
            int attempt = _attempts.GetValueOrDefault(offset) + 1;
            if (attempt > _settings.MaxDeliveries)
            {
                (done ??= []).Add(message);
                continue;
            }
            _attempts[offset] = attempt;
            long leaseId = ++_nextLeaseId;
            _inFlight[offset] = new Lease(message, memberId, expiresAt, attempt, leaseId);
            if (mode == DeliveryMode.KeyShared && message.HasKey) HoldKey(message.KeyHash, memberId);
            taken.Add(message);
            deliveries.Add(new LeasedRecord(offset, attempt, leaseId));
            payloadBytes += message.PayloadLength;
            if (attempt > 1) redelivered++;
        }
        foreach (var delivery in deliveries) _ready.Remove(delivery.Offset);
        if (waiting is not null)
        {
            foreach (var message in waiting) _ready[message.Offset] = message.Compact();
        }
        if (done is not null)
        {
            int expired = 0;
            foreach (var message in done)
            {
                _ready.Remove(message.Offset);
                if (message.IsExpiredAt(nowMs))
                {
                    Expire(message);
                    expired++;
                }
                else QueueDeadLetter(message, GranaryHeaders.Reasons.MaxDeliveries, _attempts.GetValueOrDefault(message.Offset));
            }
            // Dead-lettered ones are counted once their letter is written.
            if (_dropExpired) GranaryMetrics.RecordExpired(_topic, _group, expired);
            StartDeadLettering();
        }
        if (deliveries.Count > 0)
        {
            GranaryMetrics.RecordDelivered(_topic, _group, deliveries.Count, payloadBytes, redelivered);
            EnsureTicking();
            MarkDirty();
        }
        var answer = PullAnswer.Write(_partition, CollectionsMarshal.AsSpan(taken), [.. deliveries]);
        taken.Clear(); // no reference to fetched buffers kept past the pull
        return answer;
    }

    private void HoldKey(ulong key, string memberId)
    {
        if (!_keyHolders.TryGetValue(key, out var hold)) _keyHolders[key] = hold = new KeyHold(memberId);
        hold.Count++;
    }

    /// <summary>Forgets a lease (the message is acked, given back or dead-lettered).</summary>
    private void EndLease(long offset, Lease lease)
    {
        _inFlight.Remove(offset);
        // Only an ended lease needs remembering (while in flight its id is in _inFlight): no map entry per message
        // on the usual lease-then-ack path.
        _lastLease[offset] = lease.Id;
        if (lease.Message.HasKey && _keyHolders.TryGetValue(lease.Message.KeyHash, out var hold) && --hold.Count <= 0) _keyHolders.Remove(lease.Message.KeyHash);
    }

    /// <summary>
    /// Under the ordered modes a message that goes back must go out again before anything after it: later leases
    /// of the same partition (Ordered) or key (KeyShared) are taken back into the ready set. A take-back is not a
    /// delivery attempt (the member was told to drop the message, and a consumer never hands a later message of a
    /// key to its handler before the earlier one is done): the attempt count goes back to what it was before, so that
    /// a poison message cannot use up the deliveries of the healthy messages behind it. Offsets in
    /// <paramref name="except"/> are going back themselves (nacked in the same call) and are left alone.
    /// </summary>
    private void TakeBackLaterThan(BufferedMessage message, List<LeaseRef>? revoked, HashSet<long>? except = null)
    {
        var mode = _settings.Mode;
        if (mode == DeliveryMode.Shared || (mode == DeliveryMode.KeyShared && !message.HasKey)) return;
        var later = _inFlight.Where(l => l.Key > message.Offset && except?.Contains(l.Key) != true
            && (mode == DeliveryMode.Ordered || (l.Value.Message.HasKey && l.Value.Message.KeyHash == message.KeyHash))).ToList();
        foreach (var (offset, lease) in later)
        {
            EndLease(offset, lease);
            _ready[offset] = lease.Message;
            UncountAttempt(offset, lease);
            revoked?.Add(new LeaseRef(offset, lease.Id));
        }
        if (later.Count > 0) MarkDirty();
    }

    /// <summary>The lease's delivery never reached the application: the message's attempt count goes back to before it.</summary>
    private void UncountAttempt(long offset, Lease lease)
    {
        if (lease.Attempt > 1) _attempts[offset] = lease.Attempt - 1;
        else _attempts.Remove(offset);
    }

    /// <summary>
    /// A lease that ended without an ack: the message is ready again (and, in the ordered modes, goes first).
    /// <paramref name="ending"/> holds the offsets whose leases end now too and count as ended deliveries (of a member
    /// that left: all its leases; expired: see <see cref="ExpireLeases"/>): those are not taken back (uncounted) here.
    /// </summary>
    private void ReturnLease(long offset, Lease lease, HashSet<long> ending)
    {
        EndLease(offset, lease);
        _ready[offset] = lease.Message;
        TakeBackLaterThan(lease.Message, revoked: null, except: ending);
    }

    private void ReturnLeasesOf(string memberId)
    {
        var leases = _inFlight.Where(l => l.Value.Member == memberId).OrderBy(l => l.Key).ToList();
        var ending = leases.Select(l => l.Key).ToHashSet();
        foreach (var (offset, lease) in leases) ReturnLease(offset, lease, ending);
        SignalAvailable();
    }

    /// <summary>
    /// Returns the leases whose time ran out. Shared: each counts as a delivery attempt. Ordered modes: the leases of
    /// one pull share one end, so the messages behind a stuck one (which the consumer never handed to its handler:
    /// it waits on the stuck one) run out in the same tick; only the lowest expired lease of each key (KeyShared) or
    /// of the partition (Ordered) counts, the later ones are taken back behind it, uncounted. Otherwise a poison
    /// message that hangs its handler would use up the deliveries of every message prefetched with it.
    /// </summary>
    private void ExpireLeases()
    {
        var now = DateTime.UtcNow;
        var expired = _inFlight.Where(l => l.Value.ExpiresAt <= now).OrderBy(l => l.Key).ToList();
        if (expired.Count == 0) return;
        var counted = CountedOnExpiry(expired);
        foreach (var (offset, lease) in expired)
        {
            // Taken back already, behind a lower expired lease of its key or partition.
            if (!_inFlight.TryGetValue(offset, out var current) || current.Id != lease.Id) continue;
            ReturnLease(offset, lease, counted);
        }
        SignalAvailable();
    }

    /// <summary>
    /// The offsets among <paramref name="expired"/> (ascending) whose expiry counts as a delivery attempt: all of them
    /// under Shared and for KeyShared messages without a key; else the lowest per member and key (KeyShared) or per
    /// member (Ordered).
    /// </summary>
    private HashSet<long> CountedOnExpiry(List<KeyValuePair<long, Lease>> expired)
    {
        var mode = _settings.Mode;
        if (mode == DeliveryMode.Shared) return expired.Select(l => l.Key).ToHashSet();
        var counted = new HashSet<long>();
        var membersSeen = new HashSet<string>();
        var keysSeen = new Dictionary<string, HashSet<ulong>>();
        foreach (var (offset, lease) in expired)
        {
            bool first = mode == DeliveryMode.Ordered ? membersSeen.Add(lease.Member)
                : !lease.Message.HasKey || GetKeysSeen(lease.Member).Add(lease.Message.KeyHash);
            if (first) counted.Add(offset);
        }
        return counted;

        HashSet<ulong> GetKeysSeen(string member)
        {
            if (!keysSeen.TryGetValue(member, out var keys)) keysSeen[member] = keys = [];
            return keys;
        }
    }

    /// <summary>Holds a message back until <paramref name="dueMs"/> (a deliver-at time, or a nack delay when <paramref name="retry"/>).</summary>
    private void Hold(BufferedMessage message, long dueMs, bool retry)
    {
        _delayed[message.Offset] = message.Compact(); // may wait long: not with its whole fetch
        _dueAt[message.Offset] = dueMs;
        if (retry && message.HasKey) _retryKeys[message.KeyHash] = _retryKeys.GetValueOrDefault(message.KeyHash) + 1;
        EnsureTicking();
    }

    /// <summary>Moves delayed messages whose time has come to the ready set.</summary>
    private void ReleaseDueMessages(long nowMs)
    {
        if (_delayed.Count == 0) return;
        var due = _delayed.Keys.Where(o => _dueAt[o] <= nowMs).ToList();
        foreach (long offset in due) Unhold(offset, ready: true);
        if (due.Count > 0)
        {
            MarkDirty();
            SignalAvailable();
        }
    }

    private BufferedMessage Unhold(long offset, bool ready)
    {
        var message = _delayed[offset];
        _delayed.Remove(offset);
        _dueAt.Remove(offset);
        ulong key = message.KeyHash;
        if (_retryAt.Remove(offset) && message.HasKey && _retryKeys.TryGetValue(key, out int count))
        {
            if (count <= 1) _retryKeys.Remove(key);
            else _retryKeys[key] = count - 1;
        }
        if (ready) _ready[offset] = message;
        return message;
    }

    /// <summary>Marks an offset done (acked, dead-lettered, expired, skipped), wherever the message is now.</summary>
    private void MarkDone(long offset)
    {
        if (offset < _committed || _acked.Contains(offset)) return;
        // A late ack (lease ended, nobody given the message since: see StandingOf) still counts: the work was done.
        if (_inFlight.TryGetValue(offset, out var lease)) EndLease(offset, lease);
        else if (!_ready.Remove(offset) && _delayed.ContainsKey(offset)) Unhold(offset, ready: false);
        // The usual case, acks in order: the committed offset moves at once, with no set node per message.
        if (offset == _committed)
        {
            _committed++;
            while (_acked.Remove(_committed)) _committed++;
        }
        else _acked.Add(offset);
        _attempts.Remove(offset);
        _retryAt.Remove(offset);
        _lastLease.Remove(offset);
    }

    private void AdvanceCommitted()
    {
        while (_acked.Remove(_committed)) _committed++;
        MarkDirty();
        ReportLag();
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
        (_lagSlot ??= ConsumerLagRegistry.Register(_topic, _group)).Lag = _partitionEnd - _committed - _acked.Count;
    }

    /// <summary>Takes new settings or a new owner from the group.</summary>
    private void ApplySetup(CursorSetup setup)
    {
        var previousMode = _settings.Mode;
        _settings = setup.Settings;
        _owner = setup.Owner;
        if (previousMode != _settings.Mode)
        {
            // The rules of the old mode no longer hold: every lease goes back and is handed out under the new one.
            var leases = _inFlight.Values.ToList();
            _inFlight.Clear();
            _keyHolders.Clear();
            foreach (var lease in leases) _ready[lease.Message.Offset] = lease.Message;
        }
        // Ordered, new owner: the old owner's leases stay with it until they end (MayTake waits for that).
        SignalAvailable();
    }
}
