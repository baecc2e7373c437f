using Granary.Records;
using Granary.Storage;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Partitions;

/// <summary>
/// Idempotent producers and message-id deduplication on one partition log's append path: whether a producer's batch is
/// new, a retry or out of order, which messages of a batch are message-id duplicates, and what a retry is answered. The
/// tables are the storage engine's (<see cref="ProducerStateManager{TResult}"/>, beside the log): it rebuilds them when
/// the log opens (<see cref="OpenAsync"/>) and saves the producer table as a <see cref="ProducerStateSnapshot"/>
/// (periodically, on deactivation, and at once when a batch advanced a producer's sequence past what the log shows).
/// One instance per opened log. Not thread-safe: the partition grain's turns serialise every use.
/// </summary>
internal sealed class IdempotentAppender
{
    private readonly PartitionLog _log;
    private readonly ProducerStateManager<AppendResult> _state;
    private readonly string _topic;
    private readonly int _partition;
    // Set once the log was closed: saving then would wait on a closed log.
    private bool _closed;

    private IdempotentAppender(PartitionLog log, ProducerStateManager<AppendResult> state, string topic, int partition)
    {
        _log = log;
        _state = state;
        _topic = topic;
        _partition = partition;
    }

    /// <summary>
    /// Rebuilds the producer table and message-id window of a log that just opened: the storage engine loads its
    /// snapshot and scans the log.
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.PartitionUnavailable"/>: the state could not be rebuilt; the partition must not take appends.</exception>
    public static async Task<IdempotentAppender> OpenAsync(PartitionLog log, TimeSpan producerRetention, TimeSpan? dedupWindow,
        TimeProvider time, ILogger logger, string topic, int partition)
    {
        var state = new ProducerStateManager<AppendResult>(log, producerRetention, dedupWindow, ProducedBatchValidator.TryGetDedupId, time, logger);
        try
        {
            await state.LoadAsync();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new GranaryException(GranaryErrorCode.PartitionUnavailable, $"Partition {partition} of topic '{topic}' could not rebuild its producer state: {e.Message}", e);
        }
        return new IdempotentAppender(log, state, topic, partition);
    }

    /// <summary>
    /// Checks an idempotent producer's batch against the producer's sequence: null when it is new (or the batch is not
    /// idempotent), the first attempt when it is a retry of a batch processed already.
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.OutOfOrderSequence"/> when sequences are missing before it;
    /// <see cref="GranaryErrorCode.InvalidArgument"/> when it was processed too long ago to say where it landed.</exception>
    public ProducerBatch<AppendResult>? CheckSequence(ProduceBatch batch)
    {
        if (batch.ProducerId == 0) return null;
        switch (_state.Producers.Check(batch.ProducerId, batch.BaseSequence, batch.RecordCount, out var original))
        {
            case SequenceCheck.Duplicate:
                return original!;
            case SequenceCheck.OutOfOrder:
                throw new GranaryException(GranaryErrorCode.OutOfOrderSequence,
                    $"Partition {_partition} of topic '{_topic}' expected an earlier sequence than {batch.BaseSequence} from producer {batch.ProducerId}.");
            case SequenceCheck.TooOld:
                throw new GranaryException(GranaryErrorCode.InvalidArgument,
                    $"Sequence {batch.BaseSequence} of producer {batch.ProducerId} was stored too long ago to report where.");
            default:
                return null;
        }
    }

    /// <summary>
    /// Marks the message-id duplicates of the <paramref name="count"/> records whose ids the check of the batch just
    /// left in <see cref="AppendScratch"/> (same synchronous stretch): repeats within the batch, and ids stored within
    /// the dedup window (as of <paramref name="nowMs"/>) below <paramref name="storedBefore"/>. Null when there are none.
    /// </summary>
    public DuplicatePlan? FindDuplicates(int count, long nowMs, long storedBefore)
    {
        if (_state.Ids is not { } window) return null;
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

    /// <summary>
    /// Records a batch just handed to the log (its stored records from <paramref name="baseOffset"/>): the ids of its
    /// stored records join the window, and an idempotent producer's batch is recorded against its sequence. Returns that
    /// record, to be completed with the batch's result (or failed) once the append is durable; null when the batch is
    /// not idempotent. Same synchronous stretch as the check of the batch (the ids are read from <see cref="AppendScratch"/>).
    /// </summary>
    public ProducerBatch<AppendResult>? Remember(ProduceBatch batch, DuplicatePlan? duplicates, long baseOffset, long nowMs)
    {
        int count = batch.RecordCount;
        if (_state.Ids is { } window)
        {
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
        return batch.ProducerId != 0 ? _state.Producers.Record(batch.ProducerId, batch.BaseSequence, count, baseOffset, nowMs) : null;
    }

    /// <summary>
    /// A copy of a validated batch without its duplicate records: the others copied verbatim after the same header,
    /// which is then patched (record count, length, CRC). Only for a batch that really holds duplicates.
    /// </summary>
    public static Memory<byte> WithoutDuplicates(ReadOnlySpan<byte> records, DuplicatePlan duplicates, int stored, out long payloadBytes)
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
    /// <param name="batch">The batch.</param>
    /// <param name="duplicates">Its duplicates: all of them.</param>
    /// <param name="nowMs">Broker time of the append.</param>
    /// <param name="translate">The error the caller is answered when the flush fails (the grain also deactivates).</param>
    public async Task<AppendResult> AllDuplicatesAsync(ProduceBatch batch, DuplicatePlan duplicates, long nowMs, Func<LogWriteException, GranaryException> translate)
    {
        duplicates.AssignOffsets(-1);
        var result = duplicates.ToResult(nowMs);
        // Recorded now (a retry must find it), completed only once the copies are durable: a retry that arrives
        // meanwhile waits for this outcome rather than being confirmed early.
        var recorded = batch.ProducerId != 0 ? _state.Producers.Record(batch.ProducerId, batch.BaseSequence, batch.RecordCount, -1, nowMs) : null;
        if (duplicates.Offsets.Max() >= _log.FlushedOffset)
        {
            try
            {
                await _log.FlushAsync();
            }
            catch (LogWriteException e)
            {
                var error = translate(e);
                recorded?.Fail(error);
                throw error;
            }
        }
        recorded?.Complete(result);
        if (recorded is not null) await SaveAsync();
        return result;
    }

    /// <summary>
    /// The answer to a retried batch the partition processed already (<paramref name="original"/>, from
    /// <see cref="CheckSequence"/>): the first attempt's result when this log's state made it, otherwise rebuilt from
    /// where its first stored record landed (message-id duplicates point at their stored copies again). Called in the
    /// synchronous stretch after the check of the batch (<see cref="AppendScratch"/> still holds its ids).
    /// </summary>
    public async Task<AppendResult> RepeatedBatchResultAsync(ProduceBatch batch, ProducedBatchSummary summary, ProducerBatch<AppendResult> original)
    {
        if (original.Result is { } first)
        {
            try
            {
                return await first;
            }
            catch (GranaryException e)
            {
                throw new GranaryException(GranaryErrorCode.PartitionUnavailable, $"The first attempt of this batch failed: {e.Message}", e);
            }
        }
        var info = original.Info;
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
        await SaveAsync(); // the check may have advanced the producer's sequence
        return result;
    }

    /// <summary>
    /// Saves the producer-state snapshot if the table changed (see <see cref="ProducerStateManager{TResult}.SaveAsync"/>);
    /// nothing once the log is closed.
    /// </summary>
    public Task SaveAsync() => _closed ? Task.CompletedTask : _state.SaveAsync();

    /// <summary>The periodic pass: forgets producers and message ids past their retention, then saves.</summary>
    public Task ExpireIdleAndSaveAsync()
    {
        if (_closed) return Task.CompletedTask;
        _state.ExpireIdle();
        return _state.SaveAsync();
    }

    /// <summary>Closes the log with <paramref name="closeLog"/> and saves what it holds (see <see cref="ProducerStateManager{TResult}.CloseLogAndSaveAsync"/>).</summary>
    public async Task CloseLogAndSaveAsync(Func<Task> closeLog)
    {
        await _state.CloseLogAndSaveAsync(closeLog);
        _closed = true;
    }

    /// <summary>The log was closed by someone else (the topic's deletion): nothing is saved any more.</summary>
    public void OnLogClosed() => _closed = true;
}
