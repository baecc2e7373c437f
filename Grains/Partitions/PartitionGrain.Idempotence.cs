using Granary.Records;
using Granary.Storage;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Partitions;

/// <summary>
/// Idempotent producers and message-id deduplication on the append path: which messages of a batch are duplicates and
/// what a retry is answered. The tables are the storage engine's (<see cref="ProducerStateManager{TResult}"/>, beside
/// the log): it rebuilds them when the log opens and saves the producer table as a <see cref="ProducerStateSnapshot"/>
/// (periodically, on deactivation, and at once when a batch advanced a producer's sequence past what the log shows).
/// </summary>
internal sealed partial class PartitionGrain
{
    private ProducerStateManager<AppendResult>? _producerState;

    /// <summary>
    /// Marks the message-id duplicates of the <paramref name="count"/> records whose ids the check of the batch just
    /// left in <see cref="AppendScratch"/> (same synchronous stretch): repeats within the batch, and ids stored within
    /// the dedup window (as of <paramref name="nowMs"/>) below <paramref name="storedBefore"/>. Null when there are none.
    /// </summary>
    private DuplicatePlan? FindDuplicates(int count, long nowMs, long storedBefore)
    {
        if (Ids is not { } window) return null;
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
            else if (window.TryGet(id, nowMs, out long offset) && offset < storedBefore)
                (plan ??= new DuplicatePlan(count)).MarkStoredEarlier(i, offset);
            else
                firstInBatch[id] = i;
        }
        return plan;
    }

    /// <summary>Adds the ids of the records just stored (offsets from <paramref name="baseOffset"/>) to the window.</summary>
    private void Remember(int count, DuplicatePlan? duplicates, long baseOffset, long nowMs)
    {
        if (Ids is not { } window) return;
        window.Evict(nowMs);
        var ids = AppendScratch.Ids(count);
        var hasId = AppendScratch.HasId(count);
        long offset = baseOffset;
        for (int i = 0; i < count; i++)
        {
            if (duplicates?.IsDuplicate[i] == true) continue;
            if (hasId[i]) window.Add(ids[i], offset, nowMs);
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
        var recorded = batch.ProducerId != 0 ? Producers.Record(batch.ProducerId, batch.BaseSequence, batch.RecordCount, -1, nowMs) : null;
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
        if (recorded is not null) await SaveProducerStateAsync();
        return result;
    }

    /// <summary>
    /// The answer to a retried batch the partition processed already: the first attempt's result when this activation
    /// made it, otherwise rebuilt from where its first stored record landed (message-id duplicates point at their
    /// stored copies again).
    /// </summary>
    private async Task<AppendResult> RepeatedBatchResultAsync(ProduceBatch batch, ProducedBatchSummary summary, ProducerBatch<AppendResult> original)
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
        await SaveProducerStateAsync(); // the check may have advanced the producer's sequence
        return result;
    }

    /// <summary>
    /// The producer table of the log last opened (its <see cref="ProducerStateManager{TResult}"/> keeps it). Set before
    /// the log is published in <c>_log</c> and replaced only by the next open, so every call that got the log finds it.
    /// </summary>
    private ProducerStateTable<AppendResult> Producers => _producerState!.Producers;

    private MessageIdWindow? Ids => _producerState?.Ids;

    /// <summary>Saves the producer-state snapshot if the table changed (see <see cref="ProducerStateManager{TResult}.SaveAsync"/>).</summary>
    private Task SaveProducerStateAsync() => _log is not null && _producerState is { } state ? state.SaveAsync() : Task.CompletedTask;

    private async Task OnProducerStateTimerAsync()
    {
        if (_log is null || _producerState is not { } state) return;
        state.ExpireIdle();
        await state.SaveAsync();
    }

    /// <summary>
    /// Rebuilds the producer table and message-id window of a log that just opened: the storage engine loads its
    /// snapshot and scans the log; the grain only keeps the result.
    /// </summary>
    private async Task LoadDedupStateAsync(PartitionLog log, TopicConfig config)
    {
        var state = new ProducerStateManager<AppendResult>(log, producerOptions.Value.ProducerStateRetention, config.DedupWindow,
            ProducedBatchValidator.TryGetDedupId, time, logger);
        try
        {
            await state.LoadAsync();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new GranaryException(ErrorCode.PartitionUnavailable, $"Partition {_partition} of topic '{_topic}' could not rebuild its producer state: {e.Message}", e);
        }
        _producerState = state;
    }
}
