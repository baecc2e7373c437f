using System.IO.Hashing;
using System.Text;
using Granary.Grains.Diagnostics;
using Granary.Records;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Cursors;

// Fetching, the timer tick, expiry and dead letters.
internal sealed partial class PartitionCursorGrain
{
    private readonly Dictionary<long, DeadLetter> _deadLetters = [];
    private Task? _deadLettering;
    private bool _dropExpired;
    // Only a RejectPublish partition uses the committed offset (to hold retention back): no call per save otherwise.
    private bool _reportCommitted;

    private static readonly byte[] RedriveGroupName = StoredBatches.NameBytes(GranaryHeaders.RedriveGroup);
    private byte[]? _groupUtf8;

    private sealed record DeadLetter(BufferedMessage Message, string Reason, int Attempts);

    private async Task FetchAsync(TimeSpan maxWait)
    {
        if (!CanFetch) return;
        int room = BufferLimit - _ready.Count;
        int epoch = _epoch;
        var result = await Partition.FetchAsync(_fetchOffset, room, maxWait);
        if (epoch != _epoch) return; // a seek moved the cursor meanwhile
        _partitionEnd = result.EndOffset;
        bool done = false;
        if (result.StartOffset > _committed)
        {
            ForgetBelow(result.StartOffset);
            done = true;
        }
        long nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        bool added = false, timed = false;
        // Decoded once, here, into compact values that point into the fetched buffer.
        foreach (var ranged in StoredBatches.Read(result.Batches, result.FromOffset, result.NextOffset))
        {
            long offset = ranged.Record.Offset;
            if (offset < _committed || _acked.Contains(offset) || _inFlight.ContainsKey(offset) || _delayed.ContainsKey(offset)
                || _deadLetters.ContainsKey(offset)) continue;
            var message = BufferedMessage.From(ranged);
            timed |= message.Expires || message.IsDelayed;
            if (IsForAnotherGroup(ranged.Record))
            {
                MarkDone(offset);
                done = true;
            }
            else if (_retryAt.TryGetValue(offset, out long retryAt) && retryAt > nowMs)
            {
                Hold(message, retryAt, retry: true);
            }
            else if (message.DeliverAtMs > nowMs)
            {
                _retryAt.Remove(offset);
                Hold(message, message.DeliverAtMs, retry: false);
            }
            else
            {
                _retryAt.Remove(offset);
                added |= _ready.TryAdd(offset, message);
            }
        }
        _fetchOffset = Math.Max(_fetchOffset, result.NextOffset);
        if (result.LostFromOffset is { } lost) done |= SkipLost(lost, result.NextOffset);
        if (timed)
        {
            _watching = true;
            EnsureTicking();
        }
        if (done) AdvanceCommitted();
        else ReportLag();
        if (added) SignalAvailable();
    }

    /// <summary>
    /// Retention removed messages this group never acknowledged: they cannot be delivered or acknowledged any more,
    /// so every trace of them goes and the cursor moves past them, counting them as skipped.
    /// </summary>
    private void ForgetBelow(long start, bool lost = false)
    {
        // Messages delivered and not yet acknowledged were handed out: their acks are lost, not the messages.
        long skipped = start - _committed - _acked.Count(o => o < start) - _inFlight.Keys.Count(o => o < start);
        _skipped += skipped;
        if (lost) LogLostSkipped(logger, skipped, _topic, _group, _partition);
        else LogSkipped(logger, skipped, _topic, _group, _partition);
        foreach (long gone in _ready.Keys.Where(o => o < start).ToList()) _ready.Remove(gone);
        foreach (long gone in _delayed.Keys.Where(o => o < start).ToList()) Unhold(gone, ready: false);
        foreach (var (gone, lease) in _inFlight.Where(l => l.Key < start).ToList()) EndLease(gone, lease);
        foreach (long gone in _attempts.Keys.Where(o => o < start).ToList()) _attempts.Remove(gone);
        foreach (long gone in _retryAt.Keys.Where(o => o < start).ToList()) _retryAt.Remove(gone);
        foreach (long gone in _lastLease.Keys.Where(o => o < start).ToList()) _lastLease.Remove(gone);
        foreach (long gone in _deadLetters.Keys.Where(o => o < start).ToList()) _deadLetters.Remove(gone);
        _acked.RemoveWhere(o => o < start);
        _committed = start;
    }

    /// <summary>
    /// The partition reported offsets [<paramref name="from"/>, <paramref name="to"/>) lost (a missing segment file,
    /// damaged data): they can never be delivered, so they count as skipped and as done. True when anything changed.
    /// </summary>
    private bool SkipLost(long from, long to)
    {
        if (to <= _committed) return false;
        if (from <= _committed)
        {
            ForgetBelow(to, lost: true); // counts and logs them as skipped
            return true;
        }
        long skipped = 0;
        for (long offset = from; offset < to; offset++)
        {
            if (_acked.Contains(offset) || _inFlight.ContainsKey(offset)) continue;
            MarkDone(offset);
            skipped++;
        }
        _skipped += skipped;
        LogLostSkipped(logger, skipped, _topic, _group, _partition);
        return true;
    }

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
    /// The cursor's sub-second work while anything is pending: expired leases come back, delayed messages come due,
    /// expired messages leave, failed dead-letter writes are retried, and, while watching for expiring or delayed
    /// messages, the backlog is read ahead even with no member pulling.
    /// </summary>
    private Task TickAsync()
    {
        if (_deleted) return Task.CompletedTask;
        ExpireLeases();
        long nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        ReleaseDueMessages(nowMs);
        ExpireBuffered(nowMs);
        StartDeadLettering();
        if (_watching)
        {
            if (_ready.Count < BufferLimit && _delayed.Count < DelayedLimit)
            {
                if (_fetching is not { IsCompleted: false }) _ = WatchAsync();
            }
            else if (!HasTimedMessagesBuffered())
            {
                // Read ahead as far as memory allows and nothing held expires: watching resumes when pulls make
                // room and a fetch brings timed messages in (an idle group is not kept active for ever).
                _watching = false;
            }
        }
        if (_inFlight.Count == 0 && _delayed.Count == 0 && _deadLetters.Count == 0 && !_watching)
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
            if (!_watching || HasTimedMessagesBuffered() || _fetchOffset < _partitionEnd) return;
            _watching = false;
            try
            {
                await Partition.WatchStoppedAsync(_group, _fetchOffset);
            }
            catch
            {
                _watching = true; // the partition was not told: keep watching, and tell it next time
                throw;
            }
        }
        catch (GranaryException e) when (e.Code == ErrorCode.TopicNotFound)
        {
            _watching = false; // the topic is gone; its deletion removes this cursor
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFetchFailed(logger, e, _topic, _group, _partition);
        }
    }

    private bool HasTimedMessagesBuffered() => _delayed.Count > 0 || _ready.Values.Any(m => m.Expires)
        || _inFlight.Values.Any(l => l.Message.Expires);

    /// <summary>Expired messages never go out: those waiting in memory leave now.</summary>
    private void ExpireBuffered(long nowMs)
    {
        var expired = _ready.Values.Where(m => m.IsExpiredAt(nowMs)).ToList();
        foreach (var message in expired) _ready.Remove(message.Offset);
        foreach (long offset in _delayed.Where(d => d.Value.IsExpiredAt(nowMs)).Select(d => d.Key).ToList())
            expired.Add(Unhold(offset, ready: false));
        if (expired.Count == 0) return;
        foreach (var message in expired) Expire(message);
        if (_dropExpired) GranaryMetrics.RecordExpired(_topic, _group, expired.Count); // dead-lettered ones count once written
        StartDeadLettering();
    }

    /// <summary>An expired message, taken out of every set already: dropped (when the topic says so) or dead-lettered.</summary>
    private void Expire(BufferedMessage message)
    {
        if (_dropExpired)
        {
            _expired++;
            MarkDone(message.Offset);
            AdvanceCommitted();
        }
        else
        {
            QueueDeadLetter(message, GranaryHeaders.Reasons.Expired, _attempts.GetValueOrDefault(message.Offset));
        }
    }

    private void QueueDeadLetter(BufferedMessage message, string reason, int attempts)
    {
        _deadLetters[message.Offset] = new DeadLetter(message, reason, attempts);
        EnsureTicking();
    }

    private void StartDeadLettering()
    {
        if (_deadLettering is null && _deadLetters.Count > 0) _deadLettering = DeadLetterLoopAsync();
    }

    /// <summary>
    /// Writes dead letters to the dead-letter topic, then marks them done: a crash in between writes them again
    /// (at-least-once into the dead-letter topic, never lost). A failed write is retried by the next tick.
    /// </summary>
    private async Task DeadLetterLoopAsync()
    {
        try
        {
            while (_deadLetters.Count > 0 && !_deleted)
            {
                int epoch = _epoch;
                var batch = _deadLetters.Values.OrderBy(d => d.Message.Offset).Take(500).ToList();
                try
                {
                    await WriteDeadLettersAsync(batch);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogDeadLetterFailed(logger, e, batch.Count, _topic, _group, _partition);
                    return;
                }
                if (epoch != _epoch) continue; // a seek dropped them
                int maxDeliveries = 0, expired = 0, rejected = 0;
                foreach (var letter in batch)
                {
                    long offset = letter.Message.Offset;
                    // Counted only if still pending: retention may have skipped it meanwhile (counted there).
                    if (!_deadLetters.Remove(offset) || offset < _committed || _acked.Contains(offset)) continue;
                    MarkDone(offset);
                    _deadLetteredCount++;
                    switch (letter.Reason)
                    {
                        case GranaryHeaders.Reasons.Expired: _expired++; expired++; break;
                        case GranaryHeaders.Reasons.Rejected: rejected++; break;
                        default: maxDeliveries++; break;
                    }
                }
                GranaryMetrics.RecordDeadLettered(_topic, _group, GranaryHeaders.Reasons.MaxDeliveries, maxDeliveries);
                GranaryMetrics.RecordDeadLettered(_topic, _group, GranaryHeaders.Reasons.Expired, expired);
                GranaryMetrics.RecordDeadLettered(_topic, _group, GranaryHeaders.Reasons.Rejected, rejected);
                GranaryMetrics.RecordExpired(_topic, _group, expired);
                AdvanceCommitted();
            }
        }
        finally
        {
            _deadLettering = null;
        }
    }

    private async Task WriteDeadLettersAsync(List<DeadLetter> letters)
    {
        string dlq = _settings.DeadLetterTopicOf(_topic, _group);
        var topic = GrainFactory.GetGrain<ITopicGrain>(dlq);
        TopicConfig config;
        try
        {
            config = await topic.GetConfigAsync();
        }
        catch (GranaryException e) when (e.Code == ErrorCode.TopicNotFound)
        {
            try
            {
                // Room for the largest message any topic accepts, so that no dead letter is too large for it.
                await topic.CreateAsync(new TopicConfig { MaxMessageBytes = 64 << 20 });
            }
            catch (GranaryException c) when (c.Code == ErrorCode.TopicAlreadyExists)
            {
            }
            config = await topic.GetConfigAsync();
        }
        long nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        // Decoded here only (a cold path): the cursor holds records as bytes.
        var decoded = letters.Select(l => (Letter: l, Record: l.Message.Decode())).ToList();
        var byPartition = decoded.GroupBy(l => l.Record.Key is { } key
            ? (int)(XxHash32.HashToUInt32(key.Span) % (uint)config.Partitions)
            : (int)(l.Letter.Message.Offset % config.Partitions));
        await Task.WhenAll(byPartition.Select(p => AppendDeadLettersAsync(GrainFactory.GetGrain<IPartitionGrain>(GrainKeys.Partition(dlq, p.Key)),
            [.. p.Select(l => ToDeadLetter(l.Letter, l.Record, nowMs))])));
    }

    /// <summary>
    /// Appends to one dead-letter partition. A letter too large for the dead-letter topic (its own limit, plus the
    /// headers added here) goes without its payload, marked so, rather than blocking every letter behind it.
    /// </summary>
    private static async Task AppendDeadLettersAsync(IPartitionGrain partition, Message[] letters)
    {
        try
        {
            await partition.AppendAsync(new MessageBatch(letters));
        }
        catch (GranaryException e) when (e.Code == ErrorCode.MessageTooLarge)
        {
            foreach (var letter in letters)
            {
                try
                {
                    await partition.AppendAsync(new MessageBatch([letter]));
                }
                catch (GranaryException single) when (single.Code == ErrorCode.MessageTooLarge)
                {
                    // Key, payload and the sender's headers go; Granary's own headers (the letter's story) stay.
                    var story = (letter.Headers ?? []).Where(h => h.Name.StartsWith("granary.", StringComparison.Ordinal))
                        .Append(Header(GranaryHeaders.DeadLetterPayloadDropped, letter.Payload.Length));
                    await partition.AppendAsync(new MessageBatch([new Message(null, ReadOnlyMemory<byte>.Empty, [.. story])]));
                }
            }
        }
    }

    private Message ToDeadLetter(DeadLetter letter, StoredRecord source, long nowMs)
    {
        var headers = source.GetHeaders().Where(h => !IsProvenanceHeader(h.Name)).Select(h => new MessageHeader(h.Name, h.Value.ToArray())).ToList();
        headers.Add(Header(GranaryHeaders.DeadLetterReason, letter.Reason));
        headers.Add(Header(GranaryHeaders.DeadLetterAttempts, letter.Attempts));
        headers.Add(Header(GranaryHeaders.DeadLetteredAt, nowMs));
        headers.Add(Header(GranaryHeaders.SourceTopic, _topic));
        headers.Add(Header(GranaryHeaders.SourcePartition, _partition));
        headers.Add(Header(GranaryHeaders.SourceOffset, source.Offset));
        headers.Add(Header(GranaryHeaders.SourceTimestamp, source.TimestampMs));
        headers.Add(Header(GranaryHeaders.SourceGroup, _group));
        return new Message(source.Key?.ToArray(), source.Payload, [.. headers]);
    }

    /// <summary>Headers a dead letter or redrive adds; a message that travels again gets fresh ones.</summary>
    internal static bool IsProvenanceHeader(string name) =>
        name.StartsWith("granary.dlq.", StringComparison.Ordinal) || name.StartsWith("granary.source.", StringComparison.Ordinal)
        || name == GranaryHeaders.RedriveGroup;

    private static MessageHeader Header(string name, string value) => new(name, Encoding.UTF8.GetBytes(value));

    private static MessageHeader Header(string name, long value) => Header(name, value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private Task EnsureInitializedAsync() => _initializing ??= InitializeAsync();

    private async Task InitializeAsync()
    {
        try
        {
            var setup = await GroupGrain.GetCursorSetupAsync(_partition);
            _settings = setup.Settings;
            _owner = setup.Owner;
            var topic = await GrainFactory.GetGrain<ITopicGrain>(_topic).GetConfigAsync();
            _dropExpired = topic.ExpiredMessages == ExpiredMessageAction.Drop;
            _reportCommitted = topic.Overflow == OverflowPolicy.RejectPublish;
            var saved = state.State;
            if (saved.CommittedOffset is { } committed)
            {
                _committed = committed;
            }
            else
            {
                _committed = setup.StartOffset ?? (await Partition.DescribeAsync()).StartOffset;
                _dirty = true;
            }
            _acked = [.. saved.AckedAbove];
            _attempts = new Dictionary<long, int>(saved.Attempts);
            _retryAt = new Dictionary<long, long>(saved.RetryAt);
            (_expired, _deadLetteredCount, _skipped) = (saved.Expired, saved.DeadLettered, saved.Skipped);
            _fetchOffset = _committed;
            if (_attempts.Count > 0 || _retryAt.Count > 0)
            {
                // Deliveries and delays of the last activation: read them back in so their timers run again.
                _watching = true;
                _partitionEnd = long.MaxValue;
                EnsureTicking();
            }
            if (_dirty) MarkDirty();
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

    private bool NeedsReminder => _attempts.Count > 0 || _retryAt.Count > 0 || _delayed.Count > 0 || _deadLetters.Count > 0 || _watching;

    private async Task SaveAsync()
    {
        if (_deleted) return;
        _dirty = false;
        state.State = new CursorState
        {
            CommittedOffset = _committed,
            AckedAbove = [.. _acked],
            Attempts = new Dictionary<long, int>(_attempts),
            RetryAt = new Dictionary<long, long>(_retryAt),
            Expired = _expired,
            DeadLettered = _deadLetteredCount,
            Skipped = _skipped,
        };
        await state.WriteStateAsync();
        // Unacknowledged, delayed and expiring messages must be handled even if nobody calls this cursor again.
        if (NeedsReminder && _reminder is null)
            _reminder = await this.RegisterOrUpdateReminder(ReminderName, ReminderPeriod, ReminderPeriod);
        else if (!NeedsReminder && _reminder is not null)
        {
            await this.UnregisterReminder(_reminder);
            _reminder = null;
        }
        if (_reportCommitted && _committed != _reportedCommitted)
        {
            long reported = _committed;
            await Partition.ReportCommittedAsync(_group, reported);
            _reportedCommitted = reported;
        }
    }
}
