using System.Buffers;
using Microsoft.Extensions.Logging;

namespace Granary.Storage;

/// <summary>
/// Replays one segment file from a position: every batch is checked (length bounds, magic, offset sequence, CRC32C)
/// and indexed. At a bad batch it looks for the next valid batch further on; if one exists the damage is a hole in
/// the middle (bit rot: logged, kept, reported on read); if none exists the bad bytes are the tail. A tail beyond
/// <c>trustedEnd</c> was never covered by a flush the checkpoint knows of, so it is a torn write and the caller cuts
/// it; a tail inside trusted data is kept and reported, never silently dropped.
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

    /// <summary>Bytes read while scanning.</summary>
    public long ScannedBytes { get; private set; }

    /// <summary>Outcome of a scan.</summary>
    public readonly record struct Outcome(long ValidEnd, long NextOffset, long? TornAt, string? TornReason, bool DamagedTail);

    public Outcome Scan(long position, long expectedOffset, long trustedEnd)
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

            if (FindNextValidBatch(position + 1, expectedOffset) is { } resume)
            {
                StorageLog.CorruptRegion(_logger, _segment.LogPath, position, resume.Position, expectedOffset, resume.BaseOffset, problem);
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
        if (_fileLength - position < RecordBatchCodec.HeaderSize) return "file ends inside a batch header";
        var header = Window(position, RecordBatchCodec.HeaderSize);
        long baseOffset = RecordBatchCodec.ReadBaseOffset(header);
        long length = RecordBatchCodec.ReadTotalSize(header);
        // Bounded by what the file and a segment can hold, not by MaxBatchBytes: that limit applies to new appends,
        // and lowering it must not turn batches stored under a larger one into a "torn tail".
        if (length >= RecordBatchCodec.HeaderSize && length <= int.MaxValue && position + length > _fileLength) return "file ends inside a batch";
        if (RecordBatchCodec.CheckHeader(header, Math.Min(int.MaxValue, _fileLength - position)) is { } problem) return problem;
        if (baseOffset != expectedOffset) return $"batch has base offset {baseOffset} where {expectedOffset} was expected";
        total = (int)length;
        count = RecordBatchCodec.ReadRecordCount(header);
        maxTimestamp = RecordBatchCodec.ReadMaxTimestamp(header);
        return RecordBatchCodec.IsChecksumValid(Window(position, total)) ? null : "CRC32C mismatch";
    }

    /// <summary>
    /// The first position after <paramref name="from"/> that holds a whole valid batch whose base offset is plausible
    /// for a run that went missing since <paramref name="expectedOffset"/>.
    /// </summary>
    private (long Position, long BaseOffset)? FindNextValidBatch(long from, long expectedOffset)
    {
        for (long candidate = from; candidate + RecordBatchCodec.HeaderSize <= _fileLength; candidate++)
        {
            var header = Window(candidate, RecordBatchCodec.HeaderSize);
            if (header[RecordBatchCodec.MagicPosition] != RecordBatchCodec.CurrentMagic) continue;
            long baseOffset = RecordBatchCodec.ReadBaseOffset(header);
            // Every lost record took at least one byte, so offsets cannot run ahead of the bytes skipped.
            if (baseOffset < expectedOffset || baseOffset - expectedOffset > candidate - from + 1) continue;
            if (Check(candidate, baseOffset, out _, out _, out _) is null) return (candidate, baseOffset);
        }
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
