using Granary.Records;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Granary.Storage;

/// <summary>
/// The segmented file log of one partition: a directory of segments named by base offset, each with a sparse offset
/// index and time index, plus a recovery checkpoint. See <see cref="IPartitionLog"/> for the concurrency contract and
/// <see cref="RecordBatchCodec"/> and <see cref="SegmentHeader"/> for the formats.
/// </summary>
public sealed partial class PartitionLog : IPartitionLog
{
    // Replaced whole (never mutated) by UpdateLimits, so a reader sees either the old or the new settings.
    private PartitionLogOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _writeLock = new();

    // Copy-on-write: readers take the array once; the writer replaces it on roll, retention and truncation.
    private LogSegment[] _segments;
    private long _endOffset;
    private long _flushedOffset;
    private bool _forceRoll;
    private bool _closed;
    private LogWriteException? _failure;
    // Copy-on-write, sorted by start offset; replaced under _gapLock when a read finds new damage.
    private LogGap[] _gaps;
    private readonly Lock _gapLock = new();

    private PartitionLog(string directory, PartitionLogOptions options, ILogger logger, TimeProvider time, List<LogSegment> segments, bool forceRoll, LogGap[] gaps)
    {
        _gaps = gaps;
        Directory = directory;
        _options = options;
        _logger = logger;
        _time = time;
        _segments = [.. segments];
        _endOffset = segments[^1].NextOffset;
        _flushedOffset = _endOffset;
        _forceRoll = forceRoll;
        _lastCheckpointAt = time.GetTimestamp();
        _flushLoop = Task.Run(RunFlushLoopAsync);
    }

    /// <inheritdoc />
    public string Directory { get; }

    /// <summary>The options in force: those the log was opened with, unless <see cref="UpdateLimits"/> changed them.</summary>
    public PartitionLogOptions Options => Volatile.Read(ref _options);

    /// <summary>
    /// Changes the retention limits and the largest batch an append accepts, from the next append and retention pass on.
    /// </summary>
    public void UpdateLimits(TimeSpan? retentionTime, long? retentionBytes, int maxBatchBytes)
    {
        lock (_writeLock)
        {
            var changed = _options.Clone();
            changed.RetentionTime = retentionTime;
            changed.RetentionBytes = retentionBytes;
            changed.MaxBatchBytes = maxBatchBytes;
            changed.Validate();
            Volatile.Write(ref _options, changed);
        }
    }

    /// <inheritdoc />
    public long StartOffset => Volatile.Read(ref _segments)[0].BaseOffset;

    /// <inheritdoc />
    public long EndOffset => Volatile.Read(ref _endOffset);

    /// <inheritdoc />
    public long FlushedOffset => Volatile.Read(ref _flushedOffset);

    /// <inheritdoc />
    public long SizeInBytes
    {
        get
        {
            long total = 0;
            foreach (var segment in Volatile.Read(ref _segments)) total += segment.Size;
            return total;
        }
    }

    /// <summary>
    /// Offsets whose records are lost (missing segment files, damaged bytes inside confirmed data), found by recovery
    /// or by reads since the log was opened, oldest first. A read starting in one throws a
    /// <see cref="LogCorruptedException"/> whose <see cref="LogCorruptedException.ResumeOffset"/> is the gap's end.
    /// Empty for a healthy log.
    /// </summary>
    public IReadOnlyList<LogGap> Gaps => Volatile.Read(ref _gaps);

    /// <summary>Number of segments.</summary>
    public int SegmentCount => Volatile.Read(ref _segments).Length;

    /// <summary>Base offsets of the segments, oldest first.</summary>
    public IReadOnlyList<long> SegmentBaseOffsets => Array.ConvertAll(Volatile.Read(ref _segments), s => s.BaseOffset);

    /// <summary>
    /// Opens (creating if needed) the log in <paramref name="directory"/> and recovers it: the tail after the last
    /// checkpoint is verified, a torn or corrupt tail is truncated, missing or damaged indexes are rebuilt. Damage is
    /// logged, never thrown.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    /// <exception cref="IOException">The directory cannot be read or written at all.</exception>
    public static PartitionLog Open(string directory, PartitionLogOptions options, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return Recover(Path.GetFullPath(directory), options.Clone(), logger ?? NullLogger.Instance, timeProvider ?? TimeProvider.System);
    }

    /// <summary>Runs <see cref="Open"/> on the thread pool (recovery reads files).</summary>
    public static Task<PartitionLog> OpenAsync(string directory, PartitionLogOptions options, ILogger? logger = null, TimeProvider? timeProvider = null) =>
        Task.Run(() => Open(directory, options, logger, timeProvider));

    /// <summary>
    /// Flushes and closes the log: fsyncs the active segment, saves its indexes and writes the checkpoint, so the next
    /// open verifies nothing. Appends waiting for a flush complete first.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        lock (_writeLock)
        {
            if (_closed) return;
            _closed = true;
        }
        _closing.Cancel();
        _flushSignal.Release();
        await _flushLoop.ConfigureAwait(false);

        lock (_writeLock)
        {
            var segments = _segments;
            var active = segments[^1];
            if (_failure is null)
            {
                try
                {
                    active.Flush();
                    active.SaveIndexes();
                    new RecoveryCheckpoint(active.NextOffset, active.BaseOffset, active.Size).Write(Directory);
                }
                catch (IOException e)
                {
                    // Nothing confirmed depends on this: the next open verifies the tail instead.
                    StorageLog.LogFailed(_logger, Directory, e);
                }
            }
            foreach (var segment in segments) segment.Release();
        }
        // _flushSignal is not disposed: an append that left the lock before the close still signals it, and a
        // SemaphoreSlim whose wait handle is never asked for holds nothing that needs disposing.
        _closing.Dispose();
    }

    private long NowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static int FindSegment(LogSegment[] segments, long offset)
    {
        int lo = 0, hi = segments.Length - 1, found = 0;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (segments[mid].BaseOffset <= offset) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found;
    }
}
