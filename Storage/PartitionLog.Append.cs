using Granary.Records;
using System.Buffers.Binary;

namespace Granary.Storage;

public sealed partial class PartitionLog
{
    // Group commit: appends that need a flush wait on the one completion source pending at the time they wrote;
    // the flush loop swaps it out together with the end offset it will cover, fsyncs once and completes it.
    private TaskCompletionSource? _pendingFlush;
    private int _flushRequested;
    private readonly SemaphoreSlim _flushSignal = new(0);
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _flushLoop;
    private long _lastCheckpointAt;
    private long _flushCount;
    // Bumped by every TruncateTo that removes something (write lock held). The flush loop fsyncs outside the lock; if
    // this changed meanwhile, what it captured may have been cut and rewritten, so the fsync proves nothing.
    private long _truncations;
    // Flushes between their capture and their end (the loop's, and a lone append's on its own thread). Write lock held.
    private int _flushesRunning;

    /// <summary>Number of flushes (the group-commit loop's, and lone appends' own) that completed since the log was opened.</summary>
    public long FlushCount => Interlocked.Read(ref _flushCount);

    // Reused under the write lock: the stamped base offset and the gather list for one positional write.
    private readonly byte[] _baseOffsetStamp = new byte[8];
    private readonly ReadOnlyMemory<byte>[] _gather = new ReadOnlyMemory<byte>[2];

    /// <inheritdoc />
    public ValueTask<LogAppendResult> AppendAsync(ReadOnlyMemory<byte> batch, CancellationToken cancellationToken = default) =>
        AppendAsync(batch, _options.EffectiveMaxBatchBytes, cancellationToken);

    /// <summary>
    /// Appends a copy of a batch another replica's log accepted (replication, catch-up), as <see cref="AppendAsync(ReadOnlyMemory{byte}, CancellationToken)"/>
    /// does, but bounded only by what a segment can hold: the largest batch new appends accept may have been lowered
    /// since the original was written, and refusing the copy would stop the replica from ever catching up.
    /// </summary>
    /// <exception cref="ArgumentException">The batch is malformed or larger than a segment file can address.</exception>
    public ValueTask<LogAppendResult> AppendCopyAsync(ReadOnlyMemory<byte> batch, CancellationToken cancellationToken = default) =>
        AppendAsync(batch, PartitionLogOptions.MaxSegmentBatchBytes, cancellationToken);

    /// <summary>
    /// Appends a batch the caller has already validated in full (everything <see cref="RecordBatchCodec.Validate"/>
    /// checks: header, CRC, every record's structure, UTF-8 header names, the max timestamp): this method trusts it and
    /// checks only its size against the largest batch new appends accept. A malformed batch appended here would be
    /// stored and make reads of it fail, so only a caller that validated the very bytes it passes may use it (the
    /// partition, which checks a producer's batch once while stamping it); everyone else uses
    /// <see cref="AppendAsync(ReadOnlyMemory{byte}, CancellationToken)"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The batch is larger than the log accepts.</exception>
    public ValueTask<LogAppendResult> AppendValidatedAsync(ReadOnlyMemory<byte> batch, CancellationToken cancellationToken = default) =>
        AppendValidatedAsync(batch, flushOnCallerThreadWhenIdle: false, cancellationToken);

    /// <summary>
    /// <see cref="AppendValidatedAsync(ReadOnlyMemory{byte}, CancellationToken)"/>; with <paramref name="flushOnCallerThreadWhenIdle"/>,
    /// under <see cref="FlushPolicy.Always"/> an append that finds no flush running or waited for (nor, with a
    /// <see cref="PartitionLogOptions.SharedFlusher"/>, a syncfs) flushes on the calling thread before this returns, and
    /// the returned task is then complete: a lone writer's confirm waits for the fsync only, not for thread hand-offs.
    /// Appends that come while it runs join the next flush as usual. Only for a caller that has nothing to do until the
    /// append is durable (its thread is blocked for the fsync).
    /// </summary>
    /// <exception cref="ArgumentException">The batch is larger than the log accepts.</exception>
    public ValueTask<LogAppendResult> AppendValidatedAsync(ReadOnlyMemory<byte> batch, bool flushOnCallerThreadWhenIdle, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (batch.Length > _options.EffectiveMaxBatchBytes)
            throw new ArgumentException($"Invalid record batch: batch length {batch.Length} exceeds the limit {_options.EffectiveMaxBatchBytes}.", nameof(batch));
        return AppendTrustedAsync(batch, flushOnCallerThreadWhenIdle);
    }

    private ValueTask<LogAppendResult> AppendAsync(ReadOnlyMemory<byte> batch, int maxBatchBytes, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (RecordBatchCodec.Validate(batch.Span, maxBatchBytes) is { } problem)
            throw new ArgumentException($"Invalid record batch: {problem}.", nameof(batch));
        return AppendTrustedAsync(batch);
    }

    private ValueTask<LogAppendResult> AppendTrustedAsync(ReadOnlyMemory<byte> batch, bool flushOnCallerThreadWhenIdle = false)
    {
        LogAppendResult result;
        TaskCompletionSource? flush = null;
        FlushTarget alone = default;
        lock (_writeLock)
        {
            ThrowIfNotWritable();
            result = AppendLocked(batch);
            if (_options.FlushPolicy != FlushPolicy.Always)
            {
                if (_options.FlushPolicy == FlushPolicy.Interval) RequestFlush();
                return ValueTask.FromResult(result);
            }
            // Nothing waits for a flush and none runs: this append is alone, and may flush on its own thread.
            if (flushOnCallerThreadWhenIdle && _pendingFlush is null && _flushesRunning == 0) alone = BeginFlushLocked();
            else flush = _pendingFlush ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        if (flush is null) return FlushOnCallerThread(alone, result);
        RequestFlush();
        return WaitForFlushAsync(flush.Task, result);
    }

    /// <summary>
    /// The flush of a lone append, on the appender's thread: with the shared flusher idle too, the append is confirmed
    /// without a thread hand-off (the flush loop's wake, the flusher's thread and the completions' continuations cost
    /// about as much as the syscall itself on a busy machine). With the shared flusher busy it joins its next syncfs.
    /// A failure comes back in the returned task, never thrown: the bytes were written, as with a flush that failed later.
    /// </summary>
    private ValueTask<LogAppendResult> FlushOnCallerThread(FlushTarget target, LogAppendResult result)
    {
        try
        {
            if (_options.SharedFlusher is { } shared)
            {
                if (!shared.TryFlushOnCallerThread()) return FinishSharedFlushAsync(shared.FlushAsync(), target, result);
            }
            else
            {
                target.Segment.Flush();
            }
        }
        catch (Exception e)
        {
            return ValueTask.FromException<LogAppendResult>(EndFlush(target, e)!); // non-null after an error
        }
        return EndFlush(target, null) is { } failure ? ValueTask.FromException<LogAppendResult>(failure) : ValueTask.FromResult(result);
    }

    private async ValueTask<LogAppendResult> FinishSharedFlushAsync(Task sharedFlush, FlushTarget target, LogAppendResult result)
    {
        Exception? error = null;
        try
        {
            await sharedFlush.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            error = e;
        }
        if (EndFlush(target, error) is { } failure) throw failure;
        return result;
    }

    private static async ValueTask<LogAppendResult> WaitForFlushAsync(Task flush, LogAppendResult result)
    {
        await flush.ConfigureAwait(false);
        return result;
    }

    /// <summary>What one flush covers, captured under the write lock before the fsync (which runs outside it).</summary>
    private readonly record struct FlushTarget(LogSegment Segment, long EndOffset, long Position, long Truncations);

    /// <summary>Captures what a flush starting now covers and counts it as running. Write lock held.</summary>
    private FlushTarget BeginFlushLocked()
    {
        var segment = _segments[^1];
        // Cannot fail: the segment is in the list, which holds a reference, and the lock is held.
        segment.TryAcquire();
        _flushesRunning++;
        return new FlushTarget(segment, _endOffset, segment.Size, _truncations);
    }

    /// <summary>
    /// After the fsync of <paramref name="target"/> (<paramref name="error"/>: it failed): marks what it made durable and
    /// returns null, or returns the failure its waiters get (the log's failure, or a truncation that came meanwhile).
    /// </summary>
    private LogWriteException? EndFlush(FlushTarget target, Exception? error)
    {
        try
        {
            lock (_writeLock)
            {
                _flushesRunning--;
                // After a failed fsync the kernel may have dropped the dirty pages: nothing it covered may be confirmed.
                if (error is not null) return FailLocked(error);
                Interlocked.Increment(ref _flushCount);
                // Their batches were cut, or rewritten after the cut: the fsync may have run before the new bytes.
                if (target.Truncations != _truncations) return TruncatedBeforeFlush();
                if (target.EndOffset > _flushedOffset) Volatile.Write(ref _flushedOffset, Math.Min(target.EndOffset, _endOffset));
                try
                {
                    if (!_closed) MaybeCheckpointLocked(target.Segment, target.Position, target.EndOffset);
                }
                catch (Exception e)
                {
                    // Not only I/O errors: the checkpoint write can also throw UnauthorizedAccessException.
                    return FailLocked(e);
                }
                return null;
            }
        }
        finally
        {
            target.Segment.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        Task flush;
        lock (_writeLock)
        {
            if (_failure is not null) throw _failure;
            if (_closed || _endOffset == Volatile.Read(ref _flushedOffset)) return;
            flush = (_pendingFlush ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
        RequestFlush();
        await flush.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private LogAppendResult AppendLocked(ReadOnlyMemory<byte> batch)
    {
        var span = batch.Span;
        int count = RecordBatchCodec.ReadRecordCount(span);
        long maxTimestamp = RecordBatchCodec.ReadMaxTimestamp(span);
        var segment = _segments[^1];
        if (NeedsRoll(segment, batch.Length, count)) segment = RollLocked();

        long baseOffset = _endOffset;
        BinaryPrimitives.WriteInt64LittleEndian(_baseOffsetStamp, baseOffset);
        _gather[0] = _baseOffsetStamp;
        _gather[1] = batch[8..];
        try
        {
            segment.Append(_gather, batch.Length, baseOffset, count, maxTimestamp, _options.IndexIntervalBytes);
        }
        catch (IOException e)
        {
            throw FailLocked(e);
        }
        finally
        {
            _gather[1] = default; // never keep the caller's buffer
        }
        Volatile.Write(ref _endOffset, baseOffset + count);
        return new LogAppendResult(baseOffset, count);
    }

    /// <summary>
    /// Makes the next append start a new segment, when the active one holds anything: retention never deletes the
    /// active segment, so a size limit below the segment size needs the data sealed before it can go.
    /// </summary>
    public void RequestRoll()
    {
        lock (_writeLock)
        {
            // An empty active segment already starts at the end; a new one there would have the same name.
            if (!_closed && !_segments[^1].IsEmpty) _forceRoll = true;
        }
    }

    // An empty segment takes any batch, even one larger than SegmentBytes: that segment then holds it alone (the next
    // append rolls), so the size of a segment never limits the size of a batch.
    private bool NeedsRoll(LogSegment segment, int batchBytes, int recordCount) =>
        _forceRoll
        || (!segment.IsEmpty && (segment.Size + batchBytes > _options.SegmentBytes
            || NowMs() - segment.CreatedAtMs >= (long)_options.SegmentMaxAge.TotalMilliseconds
            || _endOffset + recordCount - segment.BaseOffset > int.MaxValue));

    /// <summary>
    /// Seals the active segment (fsynced whatever the policy, so a sealed segment is never torn) and starts a new one.
    /// Write lock held.
    /// </summary>
    private LogSegment RollLocked()
    {
        var old = _segments[^1];
        try
        {
            old.Flush();
            old.SaveIndexes();
            var next = LogSegment.Create(Directory, _endOffset, NowMs());
            FileSync.FlushDirectory(Directory);
            Volatile.Write(ref _segments, [.. _segments, next]);
            old.Seal(_options.SharedHandleCache); // no more appends: its handle may now be closed while idle
            _forceRoll = false;
            // Everything before the new segment is now durable: release the appends waiting for that.
            Volatile.Write(ref _flushedOffset, _endOffset);
            _pendingFlush?.TrySetResult();
            _pendingFlush = null;
            new RecoveryCheckpoint(_endOffset, next.BaseOffset, next.Size).Write(Directory);
            _lastCheckpointAt = _time.GetTimestamp();
            return next;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw FailLocked(e);
        }
    }

    private void ThrowIfNotWritable()
    {
        if (_failure is not null) throw _failure;
        if (_closed) throw new LogWriteException(LogWriteFailure.Closed, $"The partition log {Directory} is closed.");
    }

    /// <summary>Turns an I/O error into the typed failure the log keeps until reopened. Write lock held.</summary>
    private LogWriteException FailLocked(Exception e)
    {
        if (_failure is null)
        {
            OpenFileExhaustion.Observe(e); // for the host's health; the log fails (and is reopened) as for any I/O error
            bool full = e is IOException io && FileSync.IsDiskFull(io);
            _failure = new LogWriteException(
                full ? LogWriteFailure.DiskFull : LogWriteFailure.IoError,
                full ? $"The disk holding {Directory} is full; the log refuses writes until it is reopened."
                     : $"An I/O error occurred in {Directory}; the log refuses writes until it is reopened: {e.Message}",
                e);
            StorageLog.LogFailed(_logger, Directory, e);
        }
        _pendingFlush?.TrySetException(_failure);
        _pendingFlush = null;
        return _failure;
    }

    private LogWriteException TruncatedBeforeFlush() =>
        new(LogWriteFailure.Truncated, $"The partition log {Directory} was truncated before this write was flushed; it may not be in the log.");

    private void RequestFlush()
    {
        if (Interlocked.Exchange(ref _flushRequested, 1) == 0) _flushSignal.Release();
    }

    private async Task RunFlushLoopAsync()
    {
        while (true)
        {
            if (!Volatile.Read(ref _closed)) await _flushSignal.WaitAsync().ConfigureAwait(false);
            // Interval: the first write after a flush wakes the loop, which lets writes gather for one interval; an
            // idle log never wakes. An explicit FlushAsync waits at most that interval.
            if (_options.FlushPolicy == FlushPolicy.Interval && !Volatile.Read(ref _closed))
            {
                await Task.Delay(_options.FlushInterval, _time, _closing.Token)
                    .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            // Queue behind the continuations the last flush released: they append first, so this fsync covers them
            // too instead of alternating small and large groups. No timed wait, so a lone appender loses ~nothing.
            await Task.Yield();
            Volatile.Write(ref _flushRequested, 0);

            TaskCompletionSource? waiters;
            FlushTarget target;
            lock (_writeLock)
            {
                if (_closed && _pendingFlush is null) return;
                if (_failure is not null)
                {
                    _pendingFlush?.TrySetException(_failure);
                    _pendingFlush = null;
                    if (_closed) return;
                    continue;
                }
                waiters = _pendingFlush;
                _pendingFlush = null;
                if (_endOffset == Volatile.Read(ref _flushedOffset))
                {
                    waiters?.TrySetResult();
                    continue;
                }
                target = BeginFlushLocked();
            }

            Exception? error = null;
            try
            {
                if (_options.SharedFlusher is { } shared) await shared.FlushAsync().ConfigureAwait(false);
                else target.Segment.Flush();
            }
            catch (Exception e)
            {
                error = e;
            }
            // Whatever escapes ends this loop, after which every append under Always would wait forever: EndFlush
            // turns every failure into the log's own.
            if (EndFlush(target, error) is { } failure) waiters?.TrySetException(failure);
            else waiters?.TrySetResult();
        }
    }

    private void MaybeCheckpointLocked(LogSegment segment, long position, long nextOffset)
    {
        if (_time.GetElapsedTime(_lastCheckpointAt) < _options.CheckpointInterval) return;
        if (!ReferenceEquals(segment, _segments[^1]) || position > segment.Size) return; // rolled or truncated meanwhile
        new RecoveryCheckpoint(nextOffset, segment.BaseOffset, position).Write(Directory);
        _lastCheckpointAt = _time.GetTimestamp();
    }
}
