namespace Granary.Storage;

public sealed partial class PartitionLog
{
    /// <inheritdoc />
    public int ApplyRetention() => ApplyRetention(long.MaxValue).SegmentsDeleted;

    /// <summary>
    /// Retention that never deletes a segment holding an offset at or above <paramref name="keepFromOffset"/> (the
    /// lowest offset some reader still needs): it deletes whole sealed segments, oldest first, past the retention time,
    /// or while the log plus <paramref name="extraBytes"/> (about to be appended) is larger than the retention size.
    /// </summary>
    /// <exception cref="LogWriteException">A segment could not be deleted; the log refuses writes until reopened.</exception>
    public RetentionResult ApplyRetention(long keepFromOffset, long extraBytes = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(extraBytes);
        if (_options.RetentionTime is null && _options.RetentionBytes is null) return default;
        lock (_writeLock)
        {
            // Allowed after a write failure: deleting old segments is how a full disk gets space back.
            if (_closed) return default;
            var segments = _segments;
            long total = extraBytes;
            foreach (var segment in segments) total += segment.Size;
            long now = NowMs();
            int expired = 0;
            bool heldBack = false;
            var reasons = new List<string>();
            // Oldest first, never the active segment; stop at the first one that is kept so offsets stay contiguous.
            for (; expired < segments.Length - 1; expired++)
            {
                var segment = segments[expired];
                long newest = segment.IsEmpty ? segment.CreatedAtMs : segment.MaxTimestampMs;
                string reason;
                if (_options.RetentionTime is { } time && now - newest > (long)time.TotalMilliseconds)
                    reason = $"older than the retention time {time}";
                else if (_options.RetentionBytes is { } bytes && total > bytes)
                    reason = $"log size {total} bytes exceeds the retention size {bytes}";
                else
                    break;
                // The next segment's base is where this one's offsets end.
                if (segments[expired + 1].BaseOffset > keepFromOffset)
                {
                    heldBack = true;
                    break;
                }
                reasons.Add(reason);
                total -= segment.Size;
            }
            if (expired == 0) return new RetentionResult(0, 0, heldBack);

            Volatile.Write(ref _segments, segments[expired..]);
            try
            {
                for (int i = 0; i < expired; i++)
                {
                    segments[i].Delete();
                    StorageLog.SegmentDeleted(_logger, segments[i].LogPath, reasons[i]);
                }
                DeleteOrphanIndexesBelow(segments[expired].BaseOffset);
                FileSync.FlushDirectory(Directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw FailLocked(e);
            }
            return new RetentionResult(expired, segments[expired].BaseOffset - segments[0].BaseOffset, heldBack);
        }
    }

    /// <inheritdoc />
    public long TruncateTo(long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        lock (_writeLock)
        {
            ThrowIfNotWritable();
            long previousEnd = _endOffset;
            if (offset >= previousEnd) return previousEnd;
            _truncations++;
            try
            {
                var segments = _segments;
                int keep = FindSegment(segments, offset);
                if (segments[keep].BaseOffset > offset) keep = -1; // below the whole log
                // Whole segments at or after the offset go, newest first; the first segment is only emptied.
                int firstRemoved = keep < 0 ? 1 : (segments[keep].BaseOffset == offset && keep > 0 ? keep : keep + 1);
                var last = segments[firstRemoved - 1];
                long cutOffset = Math.Max(offset, last.BaseOffset);
                long cutPosition = FindBatchStart(last, cutOffset, out long newNext);
                // The checkpoint moves first: one left recording the old end would make recovery after a crash here
                // take the cut for lost records (a gap). Recovery trusts only what the files still hold.
                new RecoveryCheckpoint(newNext, last.BaseOffset, cutPosition).Write(Directory);
                // Readers must stop seeing a segment before its last reference goes: one that cannot be acquired
                // makes them retry until the array changes, which after a failed delete would be never.
                Volatile.Write(ref _segments, segments[..firstRemoved]);
                for (int i = segments.Length - 1; i >= firstRemoved; i--) segments[i].Delete();
                segments = segments[..firstRemoved];

                last.TruncateTo(cutPosition, newNext);
                last.Flush();
                FileSync.FlushDirectory(Directory);
                Volatile.Write(ref _endOffset, newNext);
                if (_flushedOffset > newNext) Volatile.Write(ref _flushedOffset, newNext);
                _pendingFlush?.TrySetException(TruncatedBeforeFlush());
                _pendingFlush = null;
                new RecoveryCheckpoint(newNext, last.BaseOffset, last.Size).Write(Directory);
                // The producer-state snapshot may describe batches that are gone; without it, the log is scanned.
                ProducerStateSnapshot.Delete(Directory);
                ForgetGapsFrom(newNext);
                StorageLog.Truncated(_logger, Directory, newNext, previousEnd);
                return newNext;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw FailLocked(e);
            }
        }
    }

    /// <summary>
    /// Empties the log and makes it start at <paramref name="offset"/>, above its end: a replica that fell behind its
    /// leader's retained start continues from there. Same contract as <see cref="TruncateTo"/>.
    /// </summary>
    public void ResetTo(long offset)
    {
        lock (_writeLock)
        {
            ThrowIfNotWritable();
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(offset, _endOffset);
            _truncations++;
            try
            {
                var old = _segments;
                // The new segment's name is above every old one; readers move to it before the old ones go.
                var next = LogSegment.Create(Directory, offset, NowMs());
                Volatile.Write(ref _segments, [next]);
                for (int i = old.Length - 1; i >= 0; i--) old[i].Delete();
                FileSync.FlushDirectory(Directory);
                long previousEnd = _endOffset;
                Volatile.Write(ref _endOffset, offset);
                Volatile.Write(ref _flushedOffset, offset);
                _forceRoll = false;
                _pendingFlush?.TrySetException(TruncatedBeforeFlush());
                _pendingFlush = null;
                new RecoveryCheckpoint(offset, offset, next.Size).Write(Directory);
                ProducerStateSnapshot.Delete(Directory);
                ForgetGapsFrom(0);
                StorageLog.Truncated(_logger, Directory, offset, previousEnd);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw FailLocked(e);
            }
        }
    }

    /// <summary>
    /// After a truncation to <paramref name="offset"/>: the offsets from there on will be written again, so no gap may
    /// claim them any more.
    /// </summary>
    private void ForgetGapsFrom(long offset)
    {
        lock (_gapLock)
        {
            var gaps = _gaps;
            if (!Array.Exists(gaps, g => g.EndOffset > offset)) return;
            Volatile.Write(ref _gaps, [.. gaps.Where(g => g.StartOffset < offset).Select(g => g.EndOffset > offset ? g with { EndOffset = offset } : g)]);
        }
    }

    /// <summary>
    /// Position of the batch that holds <paramref name="offset"/> (or of the end, when none does) and the offset that
    /// starts there. A batch that fails its header or offset sequence check is damage that recovery kept (a hole or
    /// a damaged tail): the walk stops there, so the cut removes it with everything after, and the new end is the
    /// first offset the damage hid, at or below <paramref name="offset"/>. Write lock held.
    /// </summary>
    private static long FindBatchStart(LogSegment segment, long offset, out long offsetAtPosition)
    {
        var entry = segment.OffsetIndex.FindFloor(offset - segment.BaseOffset);
        long position = entry?.Position ?? SegmentHeader.Size;
        offsetAtPosition = entry is { } e ? segment.BaseOffset + e.RelativeOffset : segment.BaseOffset;
        long size = segment.Size;
        while (position < size)
        {
            if (segment.ReadBatchHeader(position, size, offsetAtPosition, out int total, out int count, out _) is not null) break;
            long next = offsetAtPosition + count;
            if (next > offset) break; // this batch holds the offset: cut before it
            position += total;
            offsetAtPosition = next;
        }
        return position;
    }
}
