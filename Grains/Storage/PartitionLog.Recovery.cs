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
        bool forceRoll = false;
        long scannedBytes = 0;
        try
        {
            for (int i = 0; i < baseOffsets.Count; i++)
            {
                bool isLast = i == baseOffsets.Count - 1;
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
                    forceRoll |= isLast;
                }
            }

            // Appends after a damaged tail go to a new segment now, not at the first append: a clean close would
            // save indexes that cover the damage, and the next open would not know it has to roll.
            if (forceRoll) forceRoll = !TryRollPastDamagedTail(directory, segments, time, logger);

            if (segments.Count == 0)
            {
                segments.Add(LogSegment.Create(directory, 0, time.GetUtcNow().ToUnixTimeMilliseconds()));
                FileSync.FlushDirectory(directory);
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

        var log = new PartitionLog(directory, options, logger, time, segments, forceRoll);
        StorageLog.Recovered(logger, directory, segments.Count, log.StartOffset, log.EndOffset, scannedBytes, stopwatch.ElapsedMilliseconds);
        return log;
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
