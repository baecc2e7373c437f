using Microsoft.Extensions.Logging;

namespace Granary.Storage;

internal static partial class StorageLog
{
    [LoggerMessage(1001, LogLevel.Information, "Recovered partition log {Directory}: {SegmentCount} segments, offsets [{StartOffset}, {EndOffset}), scanned {ScannedBytes} bytes in {ElapsedMs} ms")]
    public static partial void Recovered(ILogger logger, string directory, int segmentCount, long startOffset, long endOffset, long scannedBytes, long elapsedMs);

    [LoggerMessage(1002, LogLevel.Warning, "Truncated torn tail of {File} at byte {Position}: dropped {DroppedBytes} bytes that no flush had covered ({Reason})")]
    public static partial void TornTailTruncated(ILogger logger, string file, long position, long droppedBytes, string reason);

    [LoggerMessage(1003, LogLevel.Error, "Corrupt data in {File} at bytes [{Start}, {End}): offsets [{FirstOffset}, {NextOffset}) cannot be read ({Reason}); the valid batches after it are kept")]
    public static partial void CorruptRegion(ILogger logger, string file, long start, long end, long firstOffset, long nextOffset, string reason);

    [LoggerMessage(1004, LogLevel.Error, "Corrupt data in {File} from byte {Position} to its end ({Reason}); it lies in data that was already confirmed, so it is kept and reported on read, and writes continue in a new segment")]
    public static partial void DamagedTailKept(ILogger logger, string file, long position, string reason);

    [LoggerMessage(1005, LogLevel.Information, "Rebuilding the indexes of {File} ({Reason})")]
    public static partial void RebuildingIndexes(ILogger logger, string file, string reason);

    [LoggerMessage(1006, LogLevel.Warning, "Segment header of {File} is damaged ({Reason}); using the base offset from the file name")]
    public static partial void HeaderDamaged(ILogger logger, string file, string reason);

    [LoggerMessage(1007, LogLevel.Warning, "Ignoring the checkpoint of {Directory} ({Reason}); the last segment is verified in full")]
    public static partial void CheckpointIgnored(ILogger logger, string directory, string reason);

    [LoggerMessage(1008, LogLevel.Information, "Deleted segment {File} ({Reason})")]
    public static partial void SegmentDeleted(ILogger logger, string file, string reason);

    [LoggerMessage(1009, LogLevel.Error, "Partition log {Directory} failed and refuses writes until reopened")]
    public static partial void LogFailed(ILogger logger, string directory, Exception exception);

    [LoggerMessage(1010, LogLevel.Warning, "Truncated partition log {Directory} to offset {Offset} (end was {PreviousEnd})")]
    public static partial void Truncated(ILogger logger, string directory, long offset, long previousEnd);

    [LoggerMessage(1011, LogLevel.Warning, "Recovery of {Directory} could not {Step} ({Reason}); it goes on without it")]
    public static partial void RecoveryStepSkipped(ILogger logger, string directory, string step, string reason);

    [LoggerMessage(1012, LogLevel.Error, "Partition log {Directory} has lost offsets [{StartOffset}, {EndOffset}): {Reason}; reads of them fail with a corruption error naming offset {EndOffset} as the place to continue")]
    public static partial void GapFound(ILogger logger, string directory, long startOffset, long endOffset, string reason);

    [LoggerMessage(1013, LogLevel.Error, "Segments of {Directory} overlap: {File} holds offsets up to {NextOffset} but the next segment starts at {NextBaseOffset}; reads of the overlap are served from the earlier segment up to it")]
    public static partial void SegmentsOverlap(ILogger logger, string directory, string file, long nextOffset, long nextBaseOffset);

    [LoggerMessage(1014, LogLevel.Warning, "Could not save the producer state of {Directory}; the next open scans the log instead")]
    public static partial void ProducerStateNotSaved(ILogger logger, Exception exception, string directory);

    [LoggerMessage(1015, LogLevel.Warning, "Ignoring the producer state of {Directory} ({Reason}); rebuilding it from the log")]
    public static partial void ProducerStateIgnored(ILogger logger, string directory, string reason);

    [LoggerMessage(1016, LogLevel.Error, "Damaged data at offset {Offset} of {Directory}: the producer and message-id scan skips to where reads resume; producers and ids stored in the damaged part stay unknown")]
    public static partial void ProducerScanDamage(ILogger logger, Exception exception, string directory, long offset);
}
