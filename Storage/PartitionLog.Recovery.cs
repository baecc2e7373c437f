using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Granary.Storage;

public sealed partial class PartitionLog
{
    /// <summary>
    /// Opens every segment in offset order. Sealed segments were fsynced when they were sealed, so all of their bytes
    /// are trusted; their saved indexes are used when intact. The last segment is trusted up to the checkpoint (or
    /// its saved index, written only after a flush); the rest is verified and a torn tail cut off.
    /// </summary>
    private static PartitionLog Recover(string directory, PartitionLogOptions options, ILogger logger, TimeProvider time)
    {
        var stopwatch = Stopwatch.StartNew();
        CreateDirectoryDurably(directory);
        foreach (var temp in System.IO.Directory.EnumerateFiles(directory, "*" + LogFileNames.TempSuffix)) File.Delete(temp);

        var baseOffsets = new List<long>();
        foreach (var file in System.IO.Directory.EnumerateFiles(directory, "*" + LogFileNames.LogSuffix))
        {
            if (LogFileNames.TryParseLogFile(file, out long baseOffset)) baseOffsets.Add(baseOffset);
        }
        baseOffsets.Sort();

        var checkpoint = RecoveryCheckpoint.TryRead(directory, out string? checkpointProblem);
        if (checkpointProblem is not null) StorageLog.CheckpointIgnored(logger, directory, checkpointProblem);

        var segments = new List<LogSegment>();
        var gaps = new List<LogGap>();
        bool forceRoll = false;
        long scannedBytes = 0;
        try
        {
            for (int i = 0; i < baseOffsets.Count; i++)
            {
                bool isLast = i == baseOffsets.Count - 1;
                // The segment before is done with (all but the last are sealed): its handle may close while idle, so
                // opening a log with many segments holds no more handles than the cache allows.
                if (segments.Count > 0) segments[^1].Seal(options.SharedHandleCache);
                var segment = OpenSegment(directory, baseOffsets[i], isLast, time, logger);
                if (segment is null) continue;
                segments.Add(segment);

                long fileLength = segment.FileLength();
                long trustedEnd = fileLength;
                long? trustedEndOffset = null; // the offset of the batch at trustedEnd, where the checkpoint tells it
                if (isLast)
                {
                    trustedEnd = SegmentHeader.Size;
                    if (checkpoint is { } cp && cp.SegmentBaseOffset == segment.BaseOffset)
                    {
                        trustedEnd = Math.Min(cp.Position, fileLength);
                        if (cp.Position <= fileLength) trustedEndOffset = cp.NextOffset;
                    }
                }

                long scanFrom = SegmentHeader.Size, expectedOffset = segment.BaseOffset;
                if (TryLoadIndexes(segment, fileLength, out long covered, out long coveredNext, out string? indexProblem))
                {
                    segment.RestoreFromIndexes(covered, coveredNext);
                    scanFrom = covered;
                    expectedOffset = coveredNext;
                    if (covered > trustedEnd) (trustedEnd, trustedEndOffset) = (covered, coveredNext);
                }
                else if (fileLength > SegmentHeader.Size)
                {
                    StorageLog.RebuildingIndexes(logger, segment.LogPath, indexProblem!);
                }

                if (scanFrom >= fileLength) continue;
                using var recovery = new LogRecovery(segment, fileLength, options.IndexIntervalBytes, logger);
                var outcome = recovery.Scan(scanFrom, expectedOffset, trustedEnd, trustedEndOffset);
                scannedBytes += recovery.ScannedBytes;
                gaps.AddRange(recovery.Gaps);
                // A full disk must not keep a log from opening for reads: steps whose failure only costs the next
                // open some work are logged and skipped.
                if (!isLast)
                {
                    try
                    {
                        segment.SaveIndexes(); // sealed: its rebuilt index will not change again
                    }
                    catch (IOException e)
                    {
                        StorageLog.RecoveryStepSkipped(logger, directory, $"save the rebuilt indexes of {segment.LogPath}", e.Message);
                    }
                }
                if (outcome.TornAt is { } tornAt)
                {
                    StorageLog.TornTailTruncated(logger, segment.LogPath, tornAt, fileLength - tornAt, outcome.TornReason!);
                    try
                    {
                        segment.TruncateTo(tornAt, outcome.NextOffset);
                    }
                    catch (IOException e)
                    {
                        // The segment already ends at tornAt in memory: appends overwrite the torn bytes, and a crash
                        // before they do leaves them beyond the checkpoint, where the next open cuts them again.
                        StorageLog.RecoveryStepSkipped(logger, directory, $"cut the torn tail of {segment.LogPath}", e.Message);
                    }
                }
                else if (outcome.DamagedTail)
                {
                    long nextOffset = isLast
                        ? Math.Max(outcome.NextOffset, checkpoint?.NextOffset ?? 0)
                        : baseOffsets[i + 1];
                    segment.MarkDamagedTail(fileLength, nextOffset);
                    if (nextOffset > outcome.NextOffset)
                        gaps.Add(new LogGap(outcome.NextOffset, nextOffset, segment.LogPath, $"the end of {segment.LogPath} is damaged"));
                    forceRoll |= isLast;
                }
            }

            forceRoll |= CheckAgainstCheckpoint(segments, checkpoint, gaps);

            // Appends after a damaged tail go to a new segment now, not at the first append: a clean close would
            // save indexes that cover the damage, and the next open would not know it has to roll.
            if (forceRoll) forceRoll = !TryRollPastDamagedTail(directory, segments, time, logger);

            // The checkpoint names a later segment than any found: the newest segment files are missing. The log
            // goes on after the offsets it recorded, so they are never given out again (consumers may hold them).
            long lastKnown = segments.Count > 0 ? segments[^1].BaseOffset : -1;
            if (checkpoint is { } recorded && recorded.SegmentBaseOffset > lastKnown && recorded.NextOffset > (segments.Count > 0 ? segments[^1].NextOffset : 0))
            {
                if (segments.Count == 0)
                    gaps.Add(new LogGap(recorded.SegmentBaseOffset, recorded.NextOffset, LogFileNames.LogFile(directory, recorded.SegmentBaseOffset), $"segment file {LogFileNames.LogFile(directory, recorded.SegmentBaseOffset)} is missing, and no other"));
                segments.Add(LogSegment.Create(directory, recorded.NextOffset, time.GetUtcNow().ToUnixTimeMilliseconds()));
                FileSync.FlushDirectory(directory);
                forceRoll = false;
            }

            if (segments.Count == 0)
            {
                segments.Add(LogSegment.Create(directory, 0, time.GetUtcNow().ToUnixTimeMilliseconds()));
                FileSync.FlushDirectory(directory);
            }

            FindMissingSegments(directory, segments, gaps, logger);
            gaps.Sort((a, b) => a.StartOffset.CompareTo(b.StartOffset));
            foreach (var gap in gaps)
            {
                StorageLog.GapFound(logger, directory, gap.StartOffset, gap.EndOffset, gap.Reason);
                options.GapReported?.Invoke(gap);
            }

            // Whatever recovery kept is now made durable and checkpointed, so the next open trusts it.
            var active = segments[^1];
            try
            {
                active.Flush();
                new RecoveryCheckpoint(active.NextOffset, active.BaseOffset, active.Size).Write(directory);
            }
            catch (IOException e)
            {
                // Not checkpointed unless flushed; the next open verifies the tail again.
                StorageLog.CheckpointIgnored(logger, directory, $"could not write it: {e.Message}");
            }
        }
        catch
        {
            foreach (var segment in segments) segment.Release();
            throw;
        }

        for (int i = 0; i < segments.Count - 1; i++) segments[i].Seal(options.SharedHandleCache);
        var log = new PartitionLog(directory, options, logger, time, segments, forceRoll, [.. gaps]);
        StorageLog.Recovered(logger, directory, segments.Count, log.StartOffset, log.EndOffset, scannedBytes, stopwatch.ElapsedMilliseconds);
        return log;
    }

    /// <summary>
    /// The segment the checkpoint names must hold every offset the checkpoint recorded (they were confirmed): when it
    /// ends before (the file was cut at a batch boundary, which the scan cannot tell from a clean end), the missing
    /// offsets are a gap and are not given out again. True when that segment is the last one and must be rolled past.
    /// </summary>
    private static bool CheckAgainstCheckpoint(List<LogSegment> segments, RecoveryCheckpoint? checkpoint, List<LogGap> gaps)
    {
        if (checkpoint is not { } cp) return false;
        int index = segments.FindIndex(s => s.BaseOffset == cp.SegmentBaseOffset);
        if (index < 0) return false;
        var segment = segments[index];
        long recorded = index + 1 < segments.Count ? Math.Min(cp.NextOffset, segments[index + 1].BaseOffset) : cp.NextOffset;
        if (segment.NextOffset >= recorded) return false;
        gaps.Add(new LogGap(segment.NextOffset, recorded, segment.LogPath, $"{segment.LogPath} ends before offset {recorded}, which the checkpoint recorded as written (the file was cut)"));
        segment.MarkDamagedTail(segment.Size, recorded);
        return index == segments.Count - 1;
    }

    /// <summary>
    /// Offsets between segments that no segment holds, and segments lost below the first one: an offset or time index
    /// file whose .log is gone proves a segment was there (retention and truncation delete the index files first). Such
    /// index files stay, so every open reports the loss, until
    /// retention passes it (<see cref="DeleteOrphanIndexesBelow"/>): by then those offsets would be gone anyway.
    /// </summary>
    private static void FindMissingSegments(string directory, List<LogSegment> segments, List<LogGap> gaps, ILogger logger)
    {
        for (int i = 1; i < segments.Count; i++)
        {
            var previous = segments[i - 1];
            var segment = segments[i];
            if (previous.NextOffset < segment.BaseOffset)
            {
                gaps.Add(new LogGap(previous.NextOffset, segment.BaseOffset, LogFileNames.LogFile(directory, previous.NextOffset),
                    $"no segment file holds them: {previous.LogPath} ends at offset {previous.NextOffset} and the next file starts at {segment.BaseOffset} (a segment file is missing or was emptied)"));
            }
            else if (previous.NextOffset > segment.BaseOffset)
            {
                StorageLog.SegmentsOverlap(logger, directory, previous.LogPath, previous.NextOffset, segment.BaseOffset);
            }
        }

        long first = segments[0].BaseOffset;
        long? lowest = null;
        foreach (long baseOffset in OrphanIndexBases(directory, segments))
        {
            if (baseOffset < first && (lowest is null || baseOffset < lowest)) lowest = baseOffset;
        }
        if (lowest is not { } lost) return;
        long end = first;
        string missing = LogFileNames.LogFile(directory, lost);
        gaps.Add(new LogGap(lost, end, missing,
            $"segment file {missing} is missing (its index files remain), and no file holds offsets up to {end}"));
    }

    /// <summary>Base offsets of index files whose segment (.log) is not in <paramref name="segments"/>.</summary>
    private static SortedSet<long> OrphanIndexBases(string directory, IReadOnlyList<LogSegment> segments)
    {
        var bases = new SortedSet<long>();
        foreach (string suffix in (string[])[LogFileNames.OffsetIndexSuffix, LogFileNames.TimeIndexSuffix])
        {
            foreach (var file in System.IO.Directory.EnumerateFiles(directory, "*" + suffix))
            {
                if (!LogFileNames.TryParse(file, suffix, out long baseOffset)) continue;
                bool present = false;
                foreach (var segment in segments) present |= segment.BaseOffset == baseOffset;
                if (!present && !File.Exists(LogFileNames.LogFile(directory, baseOffset))) bases.Add(baseOffset);
            }
        }
        return bases;
    }

    /// <summary>
    /// Removes the evidence of lost segments below <paramref name="startOffset"/> once retention has moved the log's
    /// start past them (and forgets their gaps): those offsets would have been deleted by now anyway.
    /// </summary>
    private void DeleteOrphanIndexesBelow(long startOffset)
    {
        foreach (long baseOffset in OrphanIndexBases(Directory, Volatile.Read(ref _segments)))
        {
            if (baseOffset >= startOffset) continue;
            try
            {
                File.Delete(LogFileNames.OffsetIndexFile(Directory, baseOffset));
                File.Delete(LogFileNames.TimeIndexFile(Directory, baseOffset));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Only costs a report of the old gap at the next open.
                StorageLog.RecoveryStepSkipped(_logger, Directory, $"delete the index files of the lost segment {baseOffset}", e.Message);
            }
        }
        lock (_gapLock)
        {
            if (Array.Exists(_gaps, g => g.EndOffset <= startOffset))
                Volatile.Write(ref _gaps, Array.FindAll(_gaps, g => g.EndOffset > startOffset));
        }
    }

    /// <summary>
    /// Creates the directory and any missing parents, and fsyncs the parent of each one created: a new directory's
    /// name lives in its parent, and without that a crash could lose the partition's directory, with every batch
    /// confirmed in it.
    /// </summary>
    private static void CreateDirectoryDurably(string directory)
    {
        var missing = new List<string>();
        for (string? d = directory; d is not null && !System.IO.Directory.Exists(d); d = Path.GetDirectoryName(d)) missing.Add(d);
        if (missing.Count == 0) return;
        System.IO.Directory.CreateDirectory(directory);
        for (int i = missing.Count - 1; i >= 0; i--) FileSync.FlushDirectory(Path.GetDirectoryName(missing[i])!);
    }

    /// <summary>Seals the last segment, whose tail is damaged, and starts a new one after it. False if it could not.</summary>
    private static bool TryRollPastDamagedTail(string directory, List<LogSegment> segments, TimeProvider time, ILogger logger)
    {
        // A full disk must not keep the log from opening for reads: then the first append rolls (or fails the same way).
        var damaged = segments[^1];
        long nextBase = damaged.NextOffset;
        try
        {
            damaged.Flush();
            damaged.SaveIndexes();
        }
        catch (IOException e)
        {
            StorageLog.RecoveryStepSkipped(logger, directory, "seal the segment with the damaged tail", e.Message);
            return false;
        }
        try
        {
            segments.Add(LogSegment.Create(directory, nextBase, time.GetUtcNow().ToUnixTimeMilliseconds()));
        }
        catch (IOException e)
        {
            // The file may exist without its header: remove it, or the deferred roll could not create it again.
            try { File.Delete(LogFileNames.LogFile(directory, nextBase)); }
            catch (IOException) { }
            StorageLog.RecoveryStepSkipped(logger, directory, "start a segment after the damaged tail", e.Message);
            return false;
        }
        try
        {
            FileSync.FlushDirectory(directory);
        }
        catch (IOException e)
        {
            // Rolled all the same: if the new name is lost in a crash, the next open finds the damaged tail again.
            StorageLog.RecoveryStepSkipped(logger, directory, "fsync the directory after the roll", e.Message);
        }
        return true;
    }

    /// <summary>Opens one segment file and checks its header; null when it holds nothing and was removed.</summary>
    private static LogSegment? OpenSegment(string directory, long baseOffset, bool isLast, TimeProvider time, ILogger logger)
    {
        string path = LogFileNames.LogFile(directory, baseOffset);
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        try
        {
            Span<byte> bytes = stackalloc byte[SegmentHeader.Size];
            int read = RandomAccess.Read(handle, bytes, 0);
            long createdAtMs = time.GetUtcNow().ToUnixTimeMilliseconds();
            var header = SegmentHeader.TryRead(bytes[..read], out string? problem);
            if (header is { } h)
            {
                if (h.MinCompatibleVersion > SegmentHeader.CurrentVersion)
                    throw new LogCorruptedException(path, 0, $"segment format version {h.FormatVersion} needs a newer Granary (this one reads up to {SegmentHeader.CurrentVersion})");
                if (h.BaseOffset != baseOffset) StorageLog.HeaderDamaged(logger, path, $"header says base offset {h.BaseOffset}");
                createdAtMs = h.CreatedAtMs;
            }
            else if (read < SegmentHeader.Size)
            {
                // Cut while being created: it never held a batch.
                if (!isLast)
                {
                    handle.Dispose();
                    File.Delete(path);
                    StorageLog.SegmentDeleted(logger, path, "empty segment without a header");
                    return null;
                }
                bytes.Clear();
                SegmentHeader.Create(baseOffset, createdAtMs).Write(bytes);
                RandomAccess.SetLength(handle, 0);
                RandomAccess.Write(handle, bytes, 0);
                FileSync.FlushData(handle);
            }
            else
            {
                StorageLog.HeaderDamaged(logger, path, problem!);
            }
            return LogSegment.OpenExisting(directory, baseOffset, createdAtMs, handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static bool TryLoadIndexes(LogSegment segment, long fileLength, out long covered, out long nextOffset, out string? problem)
    {
        covered = nextOffset = 0;
        string offsetIndexPath = LogFileNames.OffsetIndexFile(segment.Directory, segment.BaseOffset);
        string timeIndexPath = LogFileNames.TimeIndexFile(segment.Directory, segment.BaseOffset);
        if (!segment.OffsetIndex.TryLoad(offsetIndexPath, out covered, out nextOffset, out problem))
        {
            problem = $"offset index {problem}";
        }
        else if (!segment.TimeIndex.TryLoad(timeIndexPath, out long timeCovered, out long timeNext, out problem))
        {
            problem = $"time index {problem}";
        }
        else if (timeCovered != covered || timeNext != nextOffset)
        {
            problem = "offset and time indexes disagree";
        }
        else if (covered < SegmentHeader.Size || covered > fileLength || nextOffset < segment.BaseOffset)
        {
            problem = $"index covers {covered} bytes of a {fileLength}-byte file";
        }
        else if (!segment.OffsetIndex.IsConsistent(covered) || !segment.TimeIndex.IsConsistent(nextOffset - segment.BaseOffset))
        {
            problem = "index entries out of order";
        }
        else
        {
            return true;
        }
        segment.OffsetIndex.Clear();
        segment.TimeIndex.Clear();
        return false;
    }
}
