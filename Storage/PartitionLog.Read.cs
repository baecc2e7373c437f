using Granary.Records;
using System.Buffers;

namespace Granary.Storage;

public sealed partial class PartitionLog
{
    private const int MinReadBytes = 64 * 1024;

    /// <inheritdoc />
    public ValueTask<LogReadResult> ReadAsync(long fromOffset, int maxBytes, long maxOffset = long.MaxValue, CancellationToken cancellationToken = default) =>
        ReadAsync(fromOffset, maxBytes, int.MaxValue, maxOffset, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<LogReadResult> ReadAsync(long fromOffset, int maxBytes, int maxRecords, long maxOffset, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromOffset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRecords);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Closing releases every segment, so after it the retry below would never find one it can hold.
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _closed), this);
            var segments = Volatile.Read(ref _segments);
            long start = segments[0].BaseOffset;
            long end = EndOffset;
            if (fromOffset < start || fromOffset > end) return LogReadResult.OutOfRange(fromOffset, start, end);
            long limit = Math.Min(end, maxOffset);
            if (fromOffset >= limit) return LogReadResult.Empty(fromOffset, start, end);
            // Never skip lost records silently: a read starting in a gap says so, and where reading may go on.
            var gaps = Volatile.Read(ref _gaps);
            if (gaps.Length > 0 && FindGap(gaps, fromOffset) is { } gap)
                throw new LogCorruptedException(gap.File, 0, $"offsets [{gap.StartOffset}, {gap.EndOffset}) are lost: {gap.Reason}", fromOffset, gap.EndOffset);

            bool retry = false;
            for (int i = FindSegment(segments, fromOffset); i < segments.Length; i++)
            {
                var segment = segments[i];
                if (!segment.TryAcquire())
                {
                    retry = true; // deleted by retention since the snapshot; look again
                    break;
                }
                try
                {
                    if (fromOffset >= segment.NextOffset) continue; // at the end of this segment: the next one holds it
                    LogReadResult? result;
                    try
                    {
                        result = await ReadFromSegmentAsync(segment, fromOffset, maxBytes, maxRecords, limit, start, end, cancellationToken).ConfigureAwait(false);
                    }
                    catch (LogCorruptedException e) when (e.ResumeOffset is null)
                    {
                        throw WithResumePoint(segment, e, fromOffset);
                    }
                    if (result is not null) return result;
                }
                finally
                {
                    segment.Release();
                }
            }
            if (!retry) return LogReadResult.Empty(fromOffset, start, end);
        }
    }

    /// <summary>
    /// Reads from the index position at or before <paramref name="fromOffset"/>, skips whole batches below it, and
    /// returns the batches that follow, each verified. Null when the segment holds nothing at or after the offset.
    /// </summary>
    private async ValueTask<LogReadResult?> ReadFromSegmentAsync(LogSegment segment, long fromOffset, int maxBytes, int maxRecords, long limitOffset, long logStart, long logEnd, CancellationToken cancellationToken)
    {
        long size = segment.Size; // batches below this are whole
        var entry = segment.OffsetIndex.FindFloor(fromOffset - segment.BaseOffset);
        long position = entry?.Position ?? SegmentHeader.Size;
        // The CRC does not cover the base offset, so every batch walked is checked against the sequence instead.
        long expected = entry is { } e ? segment.BaseOffset + e.RelativeOffset : segment.BaseOffset;
        // The index may lag by one interval, so read that much more than asked. A read of few records is sized by them
        // (at the segment's mean record size): a cursor asking 1,000 small records must not rent a buffer for the byte
        // limit (a 2 MB array the shared pool keeps poorly, so most fetches allocated one).
        long wanted = Math.Min(maxBytes, ExpectedBytes(segment, size, maxRecords));
        int chunk = (int)Math.Min(size - position, Math.Max(wanted + _options.IndexIntervalBytes, MinReadBytes));
        if (chunk <= 0) return null;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(chunk);
        try
        {
            int filled = await ReadExactlyAsync(segment, position, buffer.AsMemory(0, chunk), cancellationToken).ConfigureAwait(false);
            int cursor = 0, first = -1, count = 0;
            long next = fromOffset;
            while (position + cursor < size)
            {
                long batchPosition = position + cursor;
                if (cursor + RecordBatchCodec.MinHeaderSize > filled)
                {
                    if (first >= 0) break;
                    // The batch we need starts near the end of the window: move the window to it.
                    (buffer, filled, position, cursor) = await RefillAsync(segment, buffer, batchPosition, size, RecordBatchCodec.MinHeaderSize, cancellationToken).ConfigureAwait(false);
                    if (filled < RecordBatchCodec.MinHeaderSize) throw Corrupted(segment, batchPosition, "file ends inside a batch header", next);
                    continue;
                }
                var header = buffer.AsSpan(cursor, RecordBatchCodec.MinHeaderSize);
                long baseOffset = RecordBatchCodec.ReadBaseOffset(header);
                string? problem = RecordBatchCodec.CheckHeader(header, size - batchPosition)
                    ?? (baseOffset != expected ? $"batch has base offset {baseOffset} where {expected} was expected" : null);
                if (problem is not null)
                {
                    if (first >= 0) break; // return the good batches; the next read reports the damage
                    throw Corrupted(segment, batchPosition, problem, Math.Max(expected, fromOffset));
                }
                int total = (int)RecordBatchCodec.ReadTotalSize(header);
                long batchNext = baseOffset + RecordBatchCodec.ReadRecordCount(header);
                if (batchNext <= fromOffset)
                {
                    expected = batchNext;
                    cursor += total;
                    continue;
                }
                if (baseOffset >= limitOffset) break;
                if (first >= 0 && next - fromOffset >= maxRecords) break;
                if (first >= 0 && ((cursor - first) + total > maxBytes || cursor + total > filled)) break;
                if (cursor + total > filled)
                {
                    (buffer, filled, position, cursor) = await RefillAsync(segment, buffer, batchPosition, size, total, cancellationToken).ConfigureAwait(false);
                    if (filled < total) throw Corrupted(segment, batchPosition, "file ends inside a batch", next);
                    continue;
                }
                if (!RecordBatchCodec.IsChecksumValid(buffer.AsSpan(cursor, total)))
                {
                    if (first >= 0) break; // return the good batches; the next read reports the damage
                    throw Corrupted(segment, batchPosition, "CRC32C mismatch", Math.Max(next, baseOffset));
                }
                if (first < 0) first = cursor;
                count++;
                // Only once the batch is taken: a refill above comes back to this same header, still expecting it.
                expected = batchNext;
                next = batchNext;
                cursor += total;
            }
            if (first < 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return fromOffset >= segment.NextOffset ? null : LogReadResult.Empty(fromOffset, logStart, logEnd);
            }
            var result = LogReadResult.Data(buffer, buffer.AsMemory(first, cursor - first), count, next, logStart, logEnd);
            buffer = null!;
            return result;
        }
        catch
        {
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>
    /// About how many bytes <paramref name="records"/> records of <paramref name="segment"/> take: its mean batch bytes
    /// per record, times the count (with a quarter more for uneven sizes). A read that falls short returns fewer records
    /// (never fewer than one batch); the caller reads on from where it stopped.
    /// </summary>
    private static long ExpectedBytes(LogSegment segment, long size, int records)
    {
        long stored = segment.NextOffset - segment.BaseOffset;
        if (records == int.MaxValue || stored <= 0) return long.MaxValue;
        long perRecord = ((size - SegmentHeader.Size) + stored - 1) / stored;
        return Math.Min(long.MaxValue / 4, perRecord * records / 4 * 5);
    }

    private static async ValueTask<(byte[] Buffer, int Filled, long Position, int Cursor)> RefillAsync(
        LogSegment segment, byte[] buffer, long position, long size, int atLeast, CancellationToken cancellationToken)
    {
        int length = (int)Math.Min(size - position, Math.Max(atLeast, buffer.Length));
        if (length > buffer.Length)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = ArrayPool<byte>.Shared.Rent(length);
        }
        int filled = await ReadExactlyAsync(segment, position, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        return (buffer, filled, position, 0);
    }

    private static async ValueTask<int> ReadExactlyAsync(LogSegment segment, long position, Memory<byte> destination, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int read = await segment.ReadAsync(position + total, destination[total..], cancellationToken).ConfigureAwait(false);
            if (read == 0) break;
            total += read;
        }
        return total;
    }

    private static LogCorruptedException Corrupted(LogSegment segment, long position, string reason, long offset) =>
        new(segment.LogPath, position, reason, offset);

    private static LogGap? FindGap(LogGap[] gaps, long offset)
    {
        foreach (var gap in gaps)
        {
            if (gap.Contains(offset)) return gap;
        }
        return null;
    }

    /// <summary>
    /// Damage a read found that recovery did not (bit rot in a sealed segment, whose bytes recovery trusts): the
    /// records up to the next batch start the offset index knows (else the segment's end) are lost. That becomes a
    /// gap, reported once, and the error names where reading may continue; the batch there is checked like any other.
    /// </summary>
    private LogCorruptedException WithResumePoint(LogSegment segment, LogCorruptedException e, long fromOffset)
    {
        long first = e.Offset ?? fromOffset;
        long resume = segment.OffsetIndex.FindFirstAfter(e.Position) is { } entry ? segment.BaseOffset + entry.RelativeOffset : segment.NextOffset;
        if (resume <= first) resume = segment.NextOffset;
        if (resume <= first) return e;
        ReportGap(new LogGap(first, resume, segment.LogPath, $"bytes from {e.Position} of {segment.LogPath} are damaged ({e.Reason})"));
        return new LogCorruptedException(e.File, e.Position, e.Reason, first, resume);
    }

    /// <summary>Adds a gap found after recovery, unless a known one covers its start; logs and reports it.</summary>
    private void ReportGap(LogGap gap)
    {
        lock (_gapLock)
        {
            var gaps = _gaps;
            if (FindGap(gaps, gap.StartOffset) is not null) return;
            var updated = new List<LogGap>(gaps) { gap };
            updated.Sort((a, b) => a.StartOffset.CompareTo(b.StartOffset));
            Volatile.Write(ref _gaps, [.. updated]);
        }
        StorageLog.GapFound(_logger, Directory, gap.StartOffset, gap.EndOffset, gap.Reason);
        _options.GapReported?.Invoke(gap);
    }

    /// <inheritdoc />
    public async ValueTask<long> FindOffsetByTimestampAsync(long timestampMs, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _closed), this);
        foreach (var segment in Volatile.Read(ref _segments))
        {
            if (segment.MaxTimestampMs < timestampMs) continue; // every record in it is older
            int? relative = segment.TimeIndex.FindLastBefore(timestampMs);
            long offset = Math.Max(StartOffset, relative is { } r ? segment.BaseOffset + r : segment.BaseOffset);
            while (offset < segment.NextOffset)
            {
                LogReadResult read;
                try
                {
                    read = await ReadAsync(offset, MinReadBytes, segment.NextOffset, cancellationToken).ConfigureAwait(false);
                }
                catch (LogCorruptedException e) when (e.ResumeOffset is { } resume && resume > offset)
                {
                    offset = resume; // lost records (a reported gap) have no timestamp to match: look after them
                    continue;
                }
                using var _ = read;
                if (read.BatchCount == 0) break;
                foreach (var batch in read.GetBatches())
                {
                    if (batch.MaxTimestampMs < timestampMs) continue;
                    foreach (var record in batch)
                    {
                        if (record.Offset >= offset && record.TimestampMs >= timestampMs) return record.Offset;
                    }
                }
                offset = read.NextOffset;
            }
        }
        return EndOffset;
    }
}
