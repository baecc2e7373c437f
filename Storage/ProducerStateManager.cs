using Granary.Records;
using Microsoft.Extensions.Logging;

namespace Granary.Storage;

/// <summary>
/// Reads the message id a stored record is deduplicated on from its raw headers, as a 128-bit hash; false when it has
/// none (or one that is exempt). The broker decides which header that is; the storage engine only scans.
/// </summary>
internal delegate bool MessageIdReader(ReadOnlySpan<byte> rawHeaders, out UInt128 id);

/// <summary>
/// The idempotence state of one partition log, kept beside the log as Kafka's producer-state manager sits beside its
/// log: the <see cref="ProducerStateTable{TResult}"/> of idempotent producers and the <see cref="MessageIdWindow"/> of
/// message ids. <see cref="LoadAsync"/> rebuilds both when the log opens: it loads the
/// <see cref="ProducerStateSnapshot"/> (unless it claims records the log no longer has) and scans the log from the
/// offset it covers (without one, from the producer-state retention) and, for the message-id window, from the first
/// record inside the window. <see cref="SaveAsync"/> writes the snapshot once the log is flushed up to what it covers.
/// </summary>
/// <remarks>
/// Not thread-safe: the owner of the log (the partition grain) serialises every use. Awaits continue on the caller's
/// context on purpose (no <c>ConfigureAwait(false)</c>): two saves must never write the snapshot file at once, and the
/// tables must only change in the owner's turns.
/// </remarks>
/// <typeparam name="TResult">What the first append of a producer's batch answered (see <see cref="ProducerStateTable{TResult}"/>).</typeparam>
internal sealed class ProducerStateManager<TResult>
{
    private const int ScanReadBytes = 1 << 20;

    private readonly PartitionLog _log;
    private readonly TimeSpan _producerRetention;
    private readonly TimeSpan? _dedupWindow;
    private readonly MessageIdReader _readMessageId;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private long _savedVersion = -1;

    /// <param name="log">The log this state describes; it stays open while the manager is used.</param>
    /// <param name="producerRetention">A producer not heard from for this long is forgotten; also how far back the log is
    /// scanned when there is no usable snapshot.</param>
    /// <param name="dedupWindow">The topic's message-id dedup window; null keeps no <see cref="Ids"/>.</param>
    /// <param name="readMessageId">Reads a stored record's message id.</param>
    /// <param name="time">Broker time (Unix milliseconds are what records and snapshots store).</param>
    /// <param name="logger">Where ignored snapshots, failed saves and damage met by the scan are reported.</param>
    public ProducerStateManager(PartitionLog log, TimeSpan producerRetention, TimeSpan? dedupWindow, MessageIdReader readMessageId,
        TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(readMessageId);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _log = log;
        _producerRetention = producerRetention;
        _dedupWindow = dedupWindow;
        _readMessageId = readMessageId;
        _time = time;
        _logger = logger;
        Ids = dedupWindow is { } window ? new MessageIdWindow(window) : null;
    }

    /// <summary>The idempotent producers of the partition.</summary>
    public ProducerStateTable<TResult> Producers { get; } = new();

    /// <summary>Message ids stored within the dedup window; null when the topic deduplicates none.</summary>
    public MessageIdWindow? Ids { get; }

    /// <summary>
    /// Rebuilds <see cref="Producers"/> and <see cref="Ids"/> from the snapshot and the log. Damaged data in the log is
    /// reported and skipped (what was stored there stays unknown); a damaged snapshot is reported and ignored.
    /// </summary>
    /// <exception cref="IOException">A snapshot that claims records the log no longer has could not be removed: the
    /// partition must not take appends, or a later open could find it valid again.</exception>
    public async Task LoadAsync()
    {
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var snapshot = ProducerStateSnapshot.TryRead(_log.Directory, out string? problem);
        if (problem is not null) StorageLog.ProducerStateIgnored(_logger, _log.Directory, problem);
        string? stale = snapshot switch
        {
            null => null,
            // Recovery cut the log below what the snapshot claims: its sequences describe records that are gone.
            _ when snapshot.CoveredOffset > _log.EndOffset => $"it covers offsets up to {snapshot.CoveredOffset} but the log ends at {_log.EndOffset}",
            // Retention deleted records after it: sequences stored there are in neither the snapshot nor the log.
            _ when snapshot.CoveredOffset < _log.StartOffset => $"it covers offsets up to {snapshot.CoveredOffset} but the log starts at {_log.StartOffset}",
            _ => null,
        };
        if (stale is not null)
        {
            StorageLog.ProducerStateIgnored(_logger, _log.Directory, stale);
            snapshot = null;
            // Gone before anything else is appended: a later open must never find it valid again.
            try
            {
                ProducerStateSnapshot.Delete(_log.Directory);
                FileSync.FlushDirectory(_log.Directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"Could not remove the stale producer-state file of {_log.Directory}: {e.Message}", e);
            }
        }
        long producersFrom;
        if (snapshot is not null)
        {
            Producers.Load(snapshot);
            _savedVersion = Producers.Version;
            producersFrom = snapshot.CoveredOffset;
        }
        else
        {
            producersFrom = await FindOffsetOrStartAsync(now - (long)_producerRetention.TotalMilliseconds).ConfigureAwait(true);
        }
        long idsFromMs = _dedupWindow is { } window ? now - (long)window.TotalMilliseconds : long.MaxValue;
        long idsFrom = Ids is null ? _log.EndOffset : await FindOffsetOrStartAsync(idsFromMs).ConfigureAwait(true);
        await ScanAsync(Math.Max(_log.StartOffset, Math.Min(producersFrom, idsFrom)), producersFrom, idsFromMs).ConfigureAwait(true);
    }

    /// <summary>
    /// Saves the producer table if it changed. It is captured first and written only once the log is flushed up to the
    /// offset it covers, so it never claims a record that a crash could still take back; an older capture never
    /// overwrites a newer one. A failed save is reported, not thrown: the next open scans the log instead.
    /// </summary>
    public async Task SaveAsync()
    {
        long version = Producers.Version;
        if (version == _savedVersion) return;
        var snapshot = Producers.ToSnapshot(_log.EndOffset);
        try
        {
            await _log.FlushAsync().ConfigureAwait(true);
            if (version <= _savedVersion) return;
            // Synchronous, in the owner's turn: two saves never write the file at once.
            snapshot.Write(_log.Directory);
            _savedVersion = version;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            StorageLog.ProducerStateNotSaved(_logger, e, _log.Directory);
        }
    }

    /// <summary>
    /// Captures the table, closes (and so flushes) the log with <paramref name="closeLog"/>, then saves the capture if
    /// the log holds everything it covers (a failed log did not flush: the next open scans instead).
    /// </summary>
    public async Task CloseLogAndSaveAsync(Func<Task> closeLog)
    {
        ArgumentNullException.ThrowIfNull(closeLog);
        long version = Producers.Version;
        var snapshot = version != _savedVersion ? Producers.ToSnapshot(_log.EndOffset) : null;
        await closeLog().ConfigureAwait(true);
        if (snapshot is null || _log.FlushedOffset < snapshot.CoveredOffset) return;
        try
        {
            snapshot.Write(_log.Directory);
            _savedVersion = version;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            StorageLog.ProducerStateNotSaved(_logger, e, _log.Directory);
        }
    }

    /// <summary>Forgets producers idle past the retention and message ids older than the window, as of now.</summary>
    public void ExpireIdle()
    {
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        Producers.ExpireIdle(now - (long)_producerRetention.TotalMilliseconds);
        Ids?.Evict(now);
    }

    /// <summary>Where the scan starts for a time; from the start when damaged data hides the answer (the scan skips damage).</summary>
    private async Task<long> FindOffsetOrStartAsync(long timestampMs)
    {
        try
        {
            return await _log.FindOffsetByTimestampAsync(timestampMs).ConfigureAwait(true);
        }
        catch (LogCorruptedException e)
        {
            StorageLog.ProducerScanDamage(_logger, e, _log.Directory, _log.StartOffset);
            return _log.StartOffset;
        }
    }

    private async Task ScanAsync(long from, long producersFrom, long idsFromMs)
    {
        long offset = from;
        long end = _log.EndOffset;
        while (offset < end)
        {
            LogReadResult read;
            try
            {
                read = await _log.ReadAsync(offset, ScanReadBytes, end).ConfigureAwait(true);
            }
            catch (LogCorruptedException e)
            {
                // Damaged data cannot tell who wrote it: carry on after it (where the log says reads may resume, else at
                // the next segment), so that what follows is known.
                StorageLog.ProducerScanDamage(_logger, e, _log.Directory, offset);
                long next = e.ResumeOffset is { } resume && resume > offset ? resume : _log.SegmentBaseOffsets.FirstOrDefault(b => b > offset, -1);
                if (next < 0) return;
                offset = next;
                continue;
            }
            using (read)
            {
                if (read.BatchCount == 0 || read.NextOffset <= offset) return;
                foreach (var batch in read.GetBatches()) ScanBatch(batch, offset, producersFrom, idsFromMs);
                offset = read.NextOffset;
            }
        }
    }

    private void ScanBatch(RecordBatch batch, long from, long producersFrom, long idsFromMs)
    {
        long producer = 0, firstOffset = 0, timestamp = 0;
        int firstSequence = 0, lastSequence = 0;
        foreach (var record in batch)
        {
            if (record.Offset < from) continue;
            if (record.ProducerId is { } id && record.Offset >= producersFrom)
            {
                if (id != producer)
                {
                    if (producer != 0) Producers.RecordScanned(producer, firstSequence, lastSequence, firstOffset, timestamp);
                    (producer, firstSequence, firstOffset, timestamp) = (id, record.Sequence, record.Offset, record.TimestampMs);
                }
                lastSequence = record.Sequence;
            }
            if (Ids is not null && record.TimestampMs >= idsFromMs && record.HeaderCount > 0
                && _readMessageId(record.RawHeaders.Span, out var messageId))
                Ids.Add(messageId, record.Offset, record.TimestampMs);
        }
        if (producer != 0) Producers.RecordScanned(producer, firstSequence, lastSequence, firstOffset, timestamp);
    }
}
