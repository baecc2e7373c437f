using Granary.Records;
using System.Buffers;
using Microsoft.Extensions.Logging;

namespace Granary.Storage;

/// <summary>
/// Replays one segment file from a position: every batch is checked (length bounds, magic, offset sequence, CRC32C)
/// and indexed. After a bad batch, valid batches resume only at a position the writer itself produced (see
/// <see cref="FindResumePoint"/>); if there is one the damage is a hole in the middle (bit rot: logged, kept, reported
/// on read); if not, the bad bytes are the tail. A tail beyond <c>trustedEnd</c> was never covered by a flush the
/// checkpoint knows of, so it is a torn write and the caller cuts it; a tail inside trusted data is kept and
/// reported, never silently dropped.
/// </summary>
internal sealed class LogRecovery : IDisposable
{
    private const int WindowBytes = 1 << 20;

    private readonly LogSegment _segment;
    private readonly long _fileLength;
    private readonly int _indexIntervalBytes;
    private readonly ILogger _logger;
    private byte[] _window = ArrayPool<byte>.Shared.Rent(WindowBytes);
    private long _windowStart = -1;
    private int _windowLength;

    public LogRecovery(LogSegment segment, long fileLength, int indexIntervalBytes, ILogger logger)
    {
        _segment = segment;
        _fileLength = fileLength;
        _indexIntervalBytes = indexIntervalBytes;
        _logger = logger;
    }

    /// <summary>Offsets lost to damaged regions the scan stepped over (bit rot in the middle of the segment).</summary>
    public List<LogGap> Gaps { get; } = [];

    /// <summary>Bytes read while scanning.</summary>
    public long ScannedBytes { get; private set; }

    /// <summary>Outcome of a scan.</summary>
    public readonly record struct Outcome(long ValidEnd, long NextOffset, long? TornAt, string? TornReason, bool DamagedTail);

    /// <param name="position">Where to start; a batch boundary.</param>
    /// <param name="expectedOffset">The base offset of the batch at <paramref name="position"/>.</param>
    /// <param name="trustedEnd">Bytes before it were on disk at the last checkpoint (or are covered by saved indexes).</param>
    /// <param name="trustedEndOffset">The base offset of the batch at <paramref name="trustedEnd"/>, when known.</param>
    public Outcome Scan(long position, long expectedOffset, long trustedEnd, long? trustedEndOffset)
    {
        while (position < _fileLength)
        {
            string? problem = Check(position, expectedOffset, out int total, out int count, out long maxTimestamp);
            if (problem is null)
            {
                _segment.Track(position, total, expectedOffset, count, maxTimestamp, _indexIntervalBytes);
                expectedOffset += count;
                position += total;
                continue;
            }

            if (FindResumePoint(position, expectedOffset, trustedEnd, trustedEndOffset) is { } resume)
            {
                StorageLog.CorruptRegion(_logger, _segment.LogPath, position, resume.Position, expectedOffset, resume.BaseOffset, problem);
                if (resume.BaseOffset > expectedOffset)
                    Gaps.Add(new LogGap(expectedOffset, resume.BaseOffset, _segment.LogPath, $"bytes [{position}, {resume.Position}) of {_segment.LogPath} are damaged ({problem})"));
                _segment.ForceIndexEntry();
                position = resume.Position;
                expectedOffset = resume.BaseOffset;
                continue;
            }
            if (position < trustedEnd)
            {
                StorageLog.DamagedTailKept(_logger, _segment.LogPath, position, problem);
                return new Outcome(_fileLength, expectedOffset, null, null, DamagedTail: true);
            }
            return new Outcome(position, expectedOffset, position, problem, DamagedTail: false);
        }
        return new Outcome(position, expectedOffset, null, null, false);
    }

    /// <summary>Null when a whole, valid batch with base <paramref name="expectedOffset"/> starts at <paramref name="position"/>.</summary>
    private string? Check(long position, long expectedOffset, out int total, out int count, out long maxTimestamp)
    {
        total = 0;
        count = 0;
        maxTimestamp = 0;
        if (_fileLength - position < RecordBatchCodec.MinHeaderSize) return "file ends inside a batch header";
        var header = Window(position, RecordBatchCodec.MinHeaderSize);
        long baseOffset = RecordBatchCodec.ReadBaseOffset(header);
        long length = RecordBatchCodec.ReadTotalSize(header);
        // Bounded by what the file and a segment can hold, not by MaxBatchBytes: that limit applies to new appends,
        // and lowering it must not turn batches stored under a larger one into a "torn tail".
        if (length >= RecordBatchCodec.MinHeaderSize && length <= int.MaxValue && position + length > _fileLength) return "file ends inside a batch";
        if (RecordBatchCodec.CheckHeader(header, Math.Min(int.MaxValue, _fileLength - position)) is { } problem) return problem;
        if (baseOffset != expectedOffset) return $"batch has base offset {baseOffset} where {expectedOffset} was expected";
        total = (int)length;
        count = RecordBatchCodec.ReadRecordCount(header);
        maxTimestamp = RecordBatchCodec.ReadMaxTimestamp(header);
        return RecordBatchCodec.IsChecksumValid(Window(position, total)) ? null : "CRC32C mismatch";
    }

    /// <summary>
    /// Where valid batches resume after the bad batch at <paramref name="position"/>, or null when that is not known.
    /// A valid-looking batch found by scanning byte by byte proves nothing: a record's payload may be an encoded batch
    /// (anything a producer sends), its base offset sits outside the CRC, and a forged one placed at the end of a
    /// payload is even followed by the real batches, so no chain check tells it apart. Only batch starts the writer
    /// produced are used: where the bad batch's own length field says it ends (its length is the writer's unless the
    /// damage hit exactly it, and then only a coincidence lands on a whole valid batch with a plausible base offset),
    /// and the checkpoint position (written after an fsync). Valid batches after damage elsewhere are lost to reads:
    /// kept and reported inside trusted data, cut as torn beyond it.
    /// </summary>
    private (long Position, long BaseOffset)? FindResumePoint(long position, long expectedOffset, long trustedEnd, long? trustedEndOffset)
    {
        if (_fileLength - position >= RecordBatchCodec.LogOverhead)
        {
            long end = position + RecordBatchCodec.ReadTotalSize(Window(position, RecordBatchCodec.LogOverhead));
            if (end >= position + RecordBatchCodec.MinHeaderSize && end + RecordBatchCodec.MinHeaderSize <= _fileLength)
            {
                long baseOffset = RecordBatchCodec.ReadBaseOffset(Window(end, RecordBatchCodec.MinHeaderSize));
                // The bad batch held at least one record, and every record took at least one byte.
                if (baseOffset > expectedOffset && baseOffset - expectedOffset <= end - position
                    && Check(end, baseOffset, out _, out _, out _) is null)
                {
                    return (end, baseOffset);
                }
            }
        }
        if (trustedEndOffset is { } offset && position < trustedEnd && trustedEnd < _fileLength && offset >= expectedOffset)
            return (trustedEnd, offset); // the scan checks the batch there like any other
        return null;
    }

    /// <summary>At least <paramref name="length"/> bytes from <paramref name="position"/> (the caller checked they exist).</summary>
    private ReadOnlySpan<byte> Window(long position, int length)
    {
        if (position < _windowStart || position + length > _windowStart + _windowLength)
        {
            if (length > _window.Length)
            {
                ArrayPool<byte>.Shared.Return(_window);
                _window = ArrayPool<byte>.Shared.Rent(length);
            }
            int toRead = (int)Math.Min(_window.Length, _fileLength - position);
            int filled = 0;
            while (filled < toRead)
            {
                int read = _segment.Read(position + filled, _window.AsSpan(filled, toRead - filled));
                if (read == 0) break;
                filled += read;
            }
            ScannedBytes += filled;
            _windowStart = position;
            _windowLength = filled;
        }
        int start = (int)(position - _windowStart);
        return _window.AsSpan(start, Math.Min(length, _windowLength - start));
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_window);
        _window = [];
    }
}
