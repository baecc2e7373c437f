using System.Text;
using Granary.Grains.Delivery;
using Granary.Records;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Cursors;

/// <summary>
/// Fills one cursor's <see cref="DeliveryState"/> from its partition: the fetch an idle pull waits on (a long poll),
/// reading ahead while nobody pulls so that fetched messages that expire or are delayed are noticed in time
/// ("watching"), and reading again the messages that went back without their record bytes ("refill"). Knows the
/// partition's end as of the last fetch. A seek voids every read begun before it.
/// </summary>
/// <remarks>
/// Plain class, no Orleans: it reads the partition through <see cref="IPartitionReader"/>. Not thread-safe: the grain
/// calls it one turn at a time, and its reads continue on the grain's scheduler.
/// </remarks>
internal sealed partial class CursorFetcher
{
    private static readonly byte[] RedriveGroupName = StoredBatches.NameBytes(GranaryHeaders.RedriveGroup);

    private readonly DeliveryState _delivery;
    private readonly IPartitionReader _partition;
    private readonly Action _changed, _fetched;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _topic, _group;
    private readonly int _partitionNumber;
    private readonly byte[] _groupUtf8;

    private Task? _fetching;
    private bool _refilling;
    // Raised by a seek: reads started before it must not touch the new position.
    private int _epoch;
    // Reading ahead with no member pulling, so that expiring and delayed messages are noticed in time.
    private bool _watching;
    private bool _stopped;
    private TaskCompletionSource _availableSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="delivery">The state filled.</param>
    /// <param name="partition">The partition read.</param>
    /// <param name="changed">Runs after a read changed <paramref name="delivery"/> (the grain acts on its outcome).</param>
    /// <param name="fetched">Runs after each forward fetch, when <see cref="PartitionEnd"/> is new (the grain reports the lag).</param>
    /// <param name="time">The clock of a pull's wait.</param>
    /// <param name="logger">Logs reads that failed in the background.</param>
    /// <param name="topic">The cursor's topic, for logs.</param>
    /// <param name="group">The cursor's group: a message redriven to another group is passed over.</param>
    /// <param name="partitionNumber">The cursor's partition, for logs.</param>
    public CursorFetcher(DeliveryState delivery, IPartitionReader partition, Action changed, Action fetched, TimeProvider time,
        ILogger logger, string topic, string group, int partitionNumber)
    {
        (_delivery, _partition, _changed, _fetched, _time, _logger) = (delivery, partition, changed, fetched, time, logger);
        (_topic, _group, _partitionNumber) = (topic, group, partitionNumber);
        _groupUtf8 = Encoding.UTF8.GetBytes(group);
    }

    /// <summary>The partition's end offset as of the last fetch; <see cref="long.MaxValue"/> while unknown (after a seek or a wake).</summary>
    public long PartitionEnd { get; private set; }

    /// <summary>Whether the cursor reads ahead on each tick with nobody pulling (the grain keeps ticking and its reminder meanwhile).</summary>
    public bool IsWatching => _watching;

    /// <summary>
    /// After a pull took messages: refills the buffer while the member works (an idle pull instead long-polls in
    /// <see cref="WaitForMessagesAsync"/>; a zero-wait fetch there would be repeated back to back for the whole wait).
    /// </summary>
    public void ReadAheadAfterPull()
    {
        if (_delivery.ReadyCount < DeliveryState.BufferLimit / 2) _ = StartFetch(TimeSpan.Zero);
        if (_delivery.UnreadCount > 0) StartRefill();
    }

    /// <summary>
    /// The wait of a pull that got nothing: fetches (a long poll of up to <paramref name="maxWait"/>) when
    /// <paramref name="memberId"/> may take and the buffer has room, starts reading again what went back, and completes
    /// when the fetch answered, something became available (<see cref="Follow"/>), or <paramref name="maxWait"/> passed.
    /// A failed fetch faults it (TopicNotFound and the like reach the member); the next call fetches again.
    /// </summary>
    public Task WaitForMessagesAsync(string memberId, TimeSpan maxWait)
    {
        // Taken before the fetch starts: a fetch can finish inside StartFetch (the partition's answer arrived before
        // the await looked at it), and the messages it added signal this task, not the next one. Taken after, that
        // signal was lost and the pull slept through its whole wait with messages ready.
        var available = _availableSignal.Task;
        // A member that may not take anything now (another owns the partition), or a full buffer, waits for a change,
        // not a fetch.
        Task? fetch = _delivery.MayTake(memberId) && _delivery.CanFetch ? StartFetch(maxWait) : null;
        // Messages that went back are read again apart from the fetch (which may be a long poll): their refill signals
        // the pull. Even into a full ready set: this pull got nothing, and an unread message may be what holds the
        // others back (Ordered, KeyShared).
        if (_delivery.UnreadCount > 0) StartRefill();
        if (fetch is { IsCompleted: true })
            return fetch.IsFaulted ? fetch : Task.CompletedTask; // answered at once: the pull takes what came, or fetches again
        return WaitAsync(fetch, available, maxWait);
    }

    private async Task WaitAsync(Task? fetch, Task available, TimeSpan maxWait)
    {
        await (fetch is null ? available : Task.WhenAny(fetch, available)).WaitAsync(maxWait, _time)
            .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        if (fetch?.IsFaulted == true) await fetch;
    }

    /// <summary>Acts on the part of a delivery outcome that concerns reading: watching, refill, waiting pulls.</summary>
    public void Follow(in DeliveryOutcome outcome)
    {
        if (outcome.TimedMessagesFetched) _watching = true;
        if (outcome.RefillNeeded) StartRefill();
        if (outcome.Available) SignalAvailable();
    }

    /// <summary>
    /// Looks at the backlog again for messages that expired or came due (after a wake, a reminder, or an activation
    /// with deliveries to restore): reads ahead from the next <see cref="Tick"/> on; the end is unknown until then.
    /// </summary>
    public void WatchBacklog()
    {
        _watching = true;
        PartitionEnd = long.MaxValue;
    }

    /// <summary>The cursor moved: reads begun before are void, and the new range is looked at for timed messages.</summary>
    public void Seek()
    {
        _epoch++;
        _fetching = null;
        WatchBacklog();
    }

    /// <summary>The cursor is deleted: no more reads begin.</summary>
    public void Stop() => _stopped = true;

    /// <summary>
    /// The tick's reading work: reads again what a failed read left unread, and while watching reads ahead, or stops
    /// watching once it has read as far as memory allows and nothing held expires or is delayed (an idle group is not
    /// kept active for ever; watching resumes when pulls make room and a fetch brings timed messages in).
    /// </summary>
    public void Tick()
    {
        if (_stopped) return;
        StartRefill();
        if (!_watching) return;
        if (_delivery.CanFetch)
        {
            if (_fetching is not { IsCompleted: false }) _ = WatchAsync();
        }
        else if (!_delivery.HasTimedMessagesBuffered)
        {
            _watching = false;
        }
    }

    /// <summary>The timestamp of the message at the committed offset, when it is stored (read if not in memory).</summary>
    public async Task<long?> OldestUnackedTimestampAsync()
    {
        var lowest = _delivery.LowestHeld();
        long committed = _delivery.Committed;
        if (lowest is { } known && known.Offset == committed) return known.TimestampMs;
        var fetched = await _partition.FetchAsync(committed, 1, TimeSpan.Zero);
        var buffer = fetched.TakeBuffer();
        try
        {
            foreach (var ranged in StoredBatches.Read(fetched.Batches, fetched.FromOffset, fetched.NextOffset)) return ranged.Record.TimestampMs;
        }
        finally
        {
            buffer?.Release();
        }
        return lowest?.TimestampMs;
    }

    private void SignalAvailable()
    {
        var signal = _availableSignal;
        _availableSignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        signal.TrySetResult();
    }

    /// <summary>
    /// The fetch in progress, or a new one. A fetch that finished at once is never kept as "in progress": waiting on a
    /// completed task would turn the pull loop into a busy spin.
    /// </summary>
    private Task StartFetch(TimeSpan maxWait)
    {
        if (_fetching is { IsCompleted: false } running) return running;
        var fetch = FetchAsync(maxWait);
        _fetching = fetch.IsCompleted ? null : fetch;
        return fetch;
    }

    private async Task FetchAsync(TimeSpan maxWait)
    {
        if (!_delivery.CanFetch) return;
        int epoch = _epoch;
        var result = await _partition.FetchAsync(_delivery.FetchOffset, _delivery.FetchRoom, maxWait);
        // The partition's pooled buffer, when it handed it over: this fetch's reference, held while the records are
        // looked at; each message the ready set keeps over it holds one more, and the last release returns it.
        var buffer = result.TakeBuffer();
        try
        {
            if (epoch != _epoch) return; // a seek moved the cursor meanwhile
            PartitionEnd = result.EndOffset;
            _delivery.RetainedFrom(result.StartOffset);
            // Decoded once, here, into compact values that point into the fetched buffer.
            foreach (var ranged in StoredBatches.Read(result.Batches, result.FromOffset, result.NextOffset))
            {
                if (!_delivery.IsNew(ranged.Record.Offset)) continue;
                _delivery.Offer(BufferedMessage.From(ranged, buffer), IsForAnotherGroup(ranged.Record));
            }
        }
        finally
        {
            buffer?.Release();
        }
        _delivery.FetchedTo(result.NextOffset);
        if (result.LostFromOffset is { } lost) _delivery.SkipLost(lost, result.NextOffset);
        _changed();
        _fetched();
    }

    /// <summary>
    /// Reads again the messages that went back without their record bytes (<see cref="DeliveryState.RefillFrom"/>),
    /// unless a refill runs already. Even into a full ready set: what went back is bounded by what was in flight, and
    /// until it is read again it can neither go out, nor expire, nor reach the dead-letter topic (with nobody pulling it
    /// would wait for ever). Failures are logged; the next pull or tick tries again.
    /// </summary>
    private void StartRefill()
    {
        if (_refilling || _delivery.RefillFrom is null) return;
        _ = RefillAsync();
    }

    private async Task RefillAsync()
    {
        // Set before the first read, so that a refill asked for while this one runs (even before its first await) is
        // left to it.
        _refilling = true;
        try
        {
            // One read per round, from the lowest: more rounds while the ready set has room (or after the next pull).
            while (_delivery.RefillFrom is { } from && !_stopped)
            {
                int epoch = _epoch;
                var result = await _partition.FetchAsync(from, DeliveryState.BufferLimit, TimeSpan.Zero);
                // Messages read again get bytes of their own (Refill): the buffer goes back once they are looked at.
                var buffer = result.TakeBuffer();
                try
                {
                    if (epoch != _epoch) continue; // a seek dropped them
                    _delivery.RetainedFrom(result.StartOffset);
                    foreach (var ranged in StoredBatches.Read(result.Batches, result.FromOffset, result.NextOffset))
                    {
                        if (_delivery.IsUnread(ranged.Record.Offset))
                            _delivery.Refill(BufferedMessage.From(ranged, buffer), IsForAnotherGroup(ranged.Record));
                    }
                }
                finally
                {
                    buffer?.Release();
                }
                _delivery.RefilledTo(Math.Max(from, result.FromOffset), result.NextOffset);
                _changed();
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
            LogFetchFailed(_logger, e, _topic, _group, _partitionNumber);
        }
        finally
        {
            _refilling = false;
        }
    }

    /// <summary>
    /// Reads ahead while watching. Watching stops only when a fetch has just shown the end of the partition and nothing
    /// held in memory expires or is delayed; the partition is then told, so that it wakes the cursor again for the next
    /// such message (or at once, for one appended since that fetch).
    /// </summary>
    private async Task WatchAsync()
    {
        try
        {
            await StartFetch(TimeSpan.Zero);
            if (!_watching || _delivery.HasTimedMessagesBuffered || _delivery.FetchOffset < PartitionEnd) return;
            _watching = false;
            try
            {
                await _partition.WatchStoppedAsync(_delivery.FetchOffset);
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
            LogFetchFailed(_logger, e, _topic, _group, _partitionNumber);
        }
    }

    /// <summary>A redriven message is addressed to one group; every other group passes over it.</summary>
    private bool IsForAnotherGroup(in StoredRecord record) =>
        StoredBatches.TryGetHeader(record, RedriveGroupName, out var group) && !group.SequenceEqual(_groupUtf8);

    [LoggerMessage(3004, LogLevel.Warning, "Background fetch failed for group {Group} on partition {Partition} of topic {Topic}")]
    private static partial void LogFetchFailed(ILogger logger, Exception exception, string topic, string group, int partition);
}
