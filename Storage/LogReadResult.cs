using Granary.Records;
using System.Buffers;

namespace Granary.Storage;

/// <summary>Outcome of a read.</summary>
public enum LogReadStatus
{
    /// <summary>Batches were returned, or the offset is the end of the log and nothing is there yet.</summary>
    Ok = 0,
    /// <summary>The offset is below the log start (deleted by retention) or past its end.</summary>
    OffsetOutOfRange = 1,
}

/// <summary>
/// Whole stored batches, exactly as on disk (no re-encoding), in a pooled buffer: dispose the result to return it,
/// and do not use <see cref="Batches"/> or records decoded from it afterwards. The first batch may begin before the
/// requested offset (batches are never split); skip records below it.
/// </summary>
public sealed class LogReadResult : IDisposable
{
    private byte[]? _buffer;

    private LogReadResult(LogReadStatus status, byte[]? buffer, ReadOnlyMemory<byte> batches, int batchCount, long nextOffset, long logStartOffset, long logEndOffset)
    {
        Status = status;
        _buffer = buffer;
        Batches = batches;
        BatchCount = batchCount;
        NextOffset = nextOffset;
        LogStartOffset = logStartOffset;
        LogEndOffset = logEndOffset;
    }

    /// <summary>Whether data was found.</summary>
    public LogReadStatus Status { get; }
    /// <summary>Consecutive whole batches; empty when none.</summary>
    public ReadOnlyMemory<byte> Batches { get; }
    /// <summary>Number of batches in <see cref="Batches"/>.</summary>
    public int BatchCount { get; }
    /// <summary>The offset to read next: after the last returned record, or the requested offset when nothing was returned.</summary>
    public long NextOffset { get; }
    /// <summary>The log's first offset when the read was served.</summary>
    public long LogStartOffset { get; }
    /// <summary>The log's end offset (next offset to be written) when the read was served.</summary>
    public long LogEndOffset { get; }

    internal static LogReadResult Data(byte[] buffer, ReadOnlyMemory<byte> batches, int batchCount, long nextOffset, long start, long end) =>
        new(LogReadStatus.Ok, buffer, batches, batchCount, nextOffset, start, end);

    internal static LogReadResult Empty(long offset, long start, long end) => new(LogReadStatus.Ok, null, default, 0, offset, start, end);

    internal static LogReadResult OutOfRange(long offset, long start, long end) => new(LogReadStatus.OffsetOutOfRange, null, default, 0, offset, start, end);

    /// <summary>Enumerates the returned batches.</summary>
    public IEnumerable<RecordBatch> GetBatches()
    {
        var remaining = Batches;
        while (!remaining.IsEmpty)
        {
            int size = (int)RecordBatchCodec.ReadTotalSize(remaining.Span);
            yield return new RecordBatch(remaining[..size]);
            remaining = remaining[size..];
        }
    }

    /// <summary>
    /// Hands the pooled array <see cref="Batches"/> is in to the caller (null when there is none, or it was handed over
    /// or returned already): the caller returns it to <see cref="ArrayPool{T}.Shared"/> once nothing reads the batches,
    /// and disposing this result no longer does.
    /// </summary>
    public byte[]? DetachBuffer() => Interlocked.Exchange(ref _buffer, null);

    /// <summary>Returns the buffer to the pool (unless it was handed over with <see cref="DetachBuffer"/>).</summary>
    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
    }
}
