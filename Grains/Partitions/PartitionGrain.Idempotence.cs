using Granary.Records;
using Granary.Storage;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Partitions;

/// <summary>
/// Idempotent producers and message-id deduplication. Both tables live in memory; the producer table is saved as a
/// <see cref="ProducerStateSnapshot"/> (periodically, on deactivation, and at once when a batch advanced a producer's
/// sequence past what the log shows) and both are rebuilt on activation by scanning the log.
/// </summary>
internal sealed partial class PartitionGrain
{
    private const int ScanReadBytes = 1 << 20;

    private readonly ProducerStateTable _producers = new();
    private MessageIdWindow? _ids;
    private long _savedProducerVersion = -1;

    /// <summary>
    /// Marks the message-id duplicates of the <paramref name="count"/> records whose ids the check of the batch just
    /// left in <see cref="AppendScratch"/> (same synchronous stretch): repeats within the batch, and ids stored within
    /// the dedup window (as of <paramref name="nowMs"/>) below <paramref name="storedBefore"/>. Null when there are none.
    /// </summary>
    private DuplicatePlan? FindDuplicates(int count, long nowMs, long storedBefore)
    {
        if (_ids is null) return null;
        DuplicatePlan? plan = null;
        var ids = AppendScratch.Ids(count);
        var hasId = AppendScratch.HasId(count);
        var firstInBatch = AppendScratch.FirstInBatch();
        for (int i = 0; i < count; i++)
        {
            if (!hasId[i]) continue;
            var id = ids[i];
            if (firstInBatch.TryGetValue(id, out int first))
                (plan ??= new DuplicatePlan(count)).MarkCopyOf(i, first);
            else if (_ids.TryGet(id, nowMs, out long offset) && offset < storedBefore)
                (plan ??= new DuplicatePlan(count)).MarkStoredEarlier(i, offset);
            else
                firstInBatch[id] = i;
        }
        return plan;
    }

    /// <summary>Adds the ids of the records just stored (offsets from <paramref name="baseOffset"/>) to the window.</summary>
    private void Remember(int count, DuplicatePlan? duplicates, long baseOffset, long nowMs)
    {
        if (_ids is null) return;
        _ids.Evict(nowMs);
        var ids = AppendScratch.Ids(count);
        var hasId = AppendScratch.HasId(count);
        long offset = baseOffset;
        for (int i = 0; i < count; i++)
        {
            if (duplicates?.IsDuplicate[i] == true) continue;
            if (hasId[i]) _ids.Add(ids[i], offset, nowMs);
            offset++;
        }
    }

    /// <summary>
    /// A copy of a validated batch without its duplicate records: the others copied verbatim after the same header,
    /// which is then patched (record count, length, CRC). Only for a batch that really holds duplicates.
    /// </summary>
    private static Memory<byte> WithoutDuplicates(ReadOnlySpan<byte> records, DuplicatePlan duplicates, int stored, out long payloadBytes)
    {
        var rebuilt = new byte[records.Length];
        int headerSize = RecordBatchCodec.HeaderSizeOf(records);
        records[..headerSize].CopyTo(rebuilt);
        int written = headerSize, position = headerSize;
        payloadBytes = 0;
        for (int i = 0; i < duplicates.IsDuplicate.Length; i++)
        {
            RecordBatchCodec.TryReadRecord(records, ref position, out var record); // validated: it reads
            if (duplicates.IsDuplicate[i]) continue;
            record.Encoded.CopyTo(rebuilt.AsSpan(written));
            written += record.Encoded.Length;
            payloadBytes += record.Payload.Length;
        }
        RecordBatchCodec.RewriteHeader(rebuilt.AsSpan(0, written), 0, stored);
        return rebuilt.AsMemory(0, written);
    }

    /// <summary>
    /// A batch in which every message was a message-id duplicate: nothing is appended, but the copies it points to
    /// must be durable before it is confirmed.
    /// </summary>
    private async Task<AppendResult> AllDuplicatesAsync(PartitionLog log, ProduceBatch batch, DuplicatePlan duplicates, long nowMs)
    {
        duplicates.AssignOffsets(-1);
        var result = duplicates.ToResult(nowMs);
        // Recorded now (a retry must find it), completed only once the copies are durable: a retry that arrives
        // meanwhile waits for this outcome rather than being confirmed early.
        var recorded = batch.ProducerId != 0 ? _producers.Record(batch.ProducerId, batch.BaseSequence, batch.RecordCount, -1, nowMs) : null;
        if (duplicates.Offsets.Max() >= log.FlushedOffset)
        {
            try
            {
                await log.FlushAsync();
            }
            catch (LogWriteException e)
            {
                var error = Translate(e);
                recorded?.Fail(error);
                throw error;
            }
        }
        recorded?.Complete(result);
        if (recorded is not null) await SaveProducerStateAsync(log);
        return result;
    }

    /// <summary>
    /// The answer to a retried batch the partition processed already: the first attempt's result when this activation
    /// made it, otherwise rebuilt from where its first stored record landed (message-id duplicates point at their
    /// stored copies again).
    /// </summary>
    private async Task<AppendResult> RepeatedBatchResultAsync(ProduceBatch batch, ProducedBatchSummary summary, ProducerBatch original)
    {
        if (original.Result is { } first)
        {
            try
            {
                return await first;
            }
            catch (GranaryException e)
            {
                throw new GranaryException(ErrorCode.PartitionUnavailable, $"The first attempt of this batch failed: {e.Message}", e);
            }
        }
        var info = original.Info;
        // Synchronous up to here (no await since the batch was checked): AppendScratch still holds its ids.
        var duplicates = summary.IdCount > 0 ? FindDuplicates(batch.RecordCount, info.TimestampMs, info.BaseOffset < 0 ? long.MaxValue : info.BaseOffset) : null;
        AppendResult result;
        if (duplicates is null)
        {
            result = new AppendResult(info.BaseOffset, batch.RecordCount, info.TimestampMs);
        }
        else
        {
            duplicates.AssignOffsets(info.BaseOffset);
            result = duplicates.ToResult(info.TimestampMs);
        }
        if (_log is { } log) await SaveProducerStateAsync(log); // the check may have advanced the producer's sequence
        return result;
    }

    /// <summary>
    /// Saves the producer table if it changed. It is captured first and written only once the log is flushed up to the
    /// offset it covers, so it never claims a record that a crash could still take back; an older capture never
    /// overwrites a newer one.
    /// </summary>
    private async Task SaveProducerStateAsync(PartitionLog log)
    {
        long version = _producers.Version;
        if (version == _savedProducerVersion) return;
        var snapshot = _producers.ToSnapshot(log.EndOffset);
        try
        {
            await log.FlushAsync();
            if (version <= _savedProducerVersion) return;
            // Synchronous, in the grain's turn: two saves never write the file at once.
            snapshot.Write(log.Directory);
            _savedProducerVersion = version;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogProducerStateNotSaved(logger, e, _topic, _partition);
        }
    }

    /// <summary>On deactivation: captures the table, closes (and so flushes) the log, then saves what the log holds.</summary>
    private async Task CloseWithProducerStateAsync(PartitionLog log)
    {
        var snapshot = _producers.Version != _savedProducerVersion ? _producers.ToSnapshot(log.EndOffset) : null;
        await logs.CloseAsync(log);
        if (snapshot is null || log.FlushedOffset < snapshot.CoveredOffset) return; // a failed log: the next open scans
        try
        {
            snapshot.Write(log.Directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogProducerStateNotSaved(logger, e, _topic, _partition);
        }
    }

    private async Task OnProducerStateTimerAsync()
    {
        if (_log is not { } log) return;
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        _producers.ExpireIdle(now - (long)producerOptions.Value.ProducerStateRetention.TotalMilliseconds);
        _ids?.Evict(now);
        await SaveProducerStateAsync(log);
    }

    /// <summary>
    /// Loads the producer snapshot and scans the log from the offset it covers (without one, from the producer-state
    /// retention) and, for the message-id window, from the first record inside the window.
    /// </summary>
    private async Task LoadDedupStateAsync(PartitionLog log, TopicConfig config)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        _ids = config.DedupWindow is { } window ? new MessageIdWindow(window) : null;
        var snapshot = ProducerStateSnapshot.TryRead(log.Directory, out string? problem);
        if (problem is not null) LogProducerStateIgnored(logger, _topic, _partition, problem);
        string? stale = snapshot switch
        {
            null => null,
            // Recovery cut the log below what the snapshot claims: its sequences describe records that are gone.
            _ when snapshot.CoveredOffset > log.EndOffset => $"it covers offsets up to {snapshot.CoveredOffset} but the log ends at {log.EndOffset}",
            // Retention deleted records after it: sequences stored there are in neither the snapshot nor the log.
            _ when snapshot.CoveredOffset < log.StartOffset => $"it covers offsets up to {snapshot.CoveredOffset} but the log starts at {log.StartOffset}",
            _ => null,
        };
        if (stale is not null)
        {
            LogProducerStateIgnored(logger, _topic, _partition, stale);
            snapshot = null;
            // Gone before anything else is appended: a later open must never find it valid again.
            try
            {
                ProducerStateSnapshot.Delete(log.Directory);
                FileSync.FlushDirectory(log.Directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new GranaryException(ErrorCode.PartitionUnavailable, $"Partition {_partition} of topic '{_topic}' could not remove a stale producer-state file: {e.Message}", e);
            }
        }
        long producersFrom;
        if (snapshot is not null)
        {
            _producers.Load(snapshot);
            _savedProducerVersion = _producers.Version;
            producersFrom = snapshot.CoveredOffset;
        }
        else
        {
            producersFrom = await FindOffsetOrStartAsync(log, now - (long)producerOptions.Value.ProducerStateRetention.TotalMilliseconds);
        }
        long idsFromMs = config.DedupWindow is { } w ? now - (long)w.TotalMilliseconds : long.MaxValue;
        long idsFrom = _ids is null ? log.EndOffset : await FindOffsetOrStartAsync(log, idsFromMs);
        await ScanAsync(log, Math.Max(log.StartOffset, Math.Min(producersFrom, idsFrom)), producersFrom, idsFromMs);
    }

    /// <summary>Where the scan starts for a time; from the start when damaged data hides the answer (the scan skips damage).</summary>
    private async Task<long> FindOffsetOrStartAsync(PartitionLog log, long timestampMs)
    {
        try
        {
            return await log.FindOffsetByTimestampAsync(timestampMs);
        }
        catch (LogCorruptedException e)
        {
            LogScanDamage(logger, e, _topic, _partition, log.StartOffset);
            return log.StartOffset;
        }
    }

    private async Task ScanAsync(PartitionLog log, long from, long producersFrom, long idsFromMs)
    {
        long offset = from;
        long end = log.EndOffset;
        while (offset < end)
        {
            LogReadResult read;
            try
            {
                read = await log.ReadAsync(offset, ScanReadBytes, end);
            }
            catch (LogCorruptedException e)
            {
                // Damaged data cannot tell who wrote it: carry on after it (where the log says reads may resume, else at
                // the next segment), so that what follows is known.
                LogScanDamage(logger, e, _topic, _partition, offset);
                long next = e.ResumeOffset is { } resume && resume > offset ? resume : log.SegmentBaseOffsets.FirstOrDefault(b => b > offset, -1);
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
                    if (producer != 0) _producers.RecordScanned(producer, firstSequence, lastSequence, firstOffset, timestamp);
                    (producer, firstSequence, firstOffset, timestamp) = (id, record.Sequence, record.Offset, record.TimestampMs);
                }
                lastSequence = record.Sequence;
            }
            if (_ids is not null && record.TimestampMs >= idsFromMs && record.HeaderCount > 0
                && ProducedBatchValidator.TryGetDedupId(record.RawHeaders.Span, out var messageId))
                _ids.Add(messageId, record.Offset, record.TimestampMs);
        }
        if (producer != 0) _producers.RecordScanned(producer, firstSequence, lastSequence, firstOffset, timestamp);
    }

    [LoggerMessage(2010, LogLevel.Warning, "Could not save the producer state of partition {Partition} of topic {Topic}; the next activation scans the log instead")]
    private static partial void LogProducerStateNotSaved(ILogger logger, Exception exception, string topic, int partition);

    [LoggerMessage(2011, LogLevel.Warning, "Ignoring the producer state of partition {Partition} of topic {Topic} ({Reason}); rebuilding it from the log")]
    private static partial void LogProducerStateIgnored(ILogger logger, string topic, int partition, string reason);

    [LoggerMessage(2012, LogLevel.Error, "Damaged data at offset {Offset} of partition {Partition} of topic {Topic}: the producer and message-id scan skips to the next segment; producers and ids stored in the damaged part stay unknown")]
    private static partial void LogScanDamage(ILogger logger, Exception exception, string topic, int partition, long offset);
}
