using Granary.Records;
namespace Granary.Storage;

/// <summary>
/// An append-only, offset-addressed log of record batches: the storage of one topic partition.
/// <para>
/// Concurrency contract: one writer, many readers. Appends may be called concurrently; they are ordered by an
/// internal lock and get increasing offsets in that order. Reads, lookups and the offset properties may run
/// concurrently with each other and with appends; a read sees every batch whose append has returned its offset
/// (and, bounded by <c>maxOffset</c>, only those). <see cref="ApplyRetention"/> may run alongside reads: a read that
/// started on a segment finishes on it. <see cref="TruncateTo"/> is for a single writer that has stopped appending
/// (replication); reads of the truncated range that overlap it may return the old batches.
/// </para>
/// </summary>
public interface IPartitionLog : IAsyncDisposable
{
    /// <summary>The directory that holds the segments.</summary>
    string Directory { get; }

    /// <summary>Offset of the first retained record.</summary>
    long StartOffset { get; }

    /// <summary>Offset the next appended record will get.</summary>
    long EndOffset { get; }

    /// <summary>Every record below this offset is on disk (fsynced).</summary>
    long FlushedOffset { get; }

    /// <summary>Total bytes of all segment files.</summary>
    long SizeInBytes { get; }

    /// <summary>
    /// Appends one encoded batch (from <see cref="RecordBatchBuilder"/>) and returns its base offset. Under
    /// <see cref="FlushPolicy.Always"/> it completes only after an fsync covers the batch. The caller's buffer is not
    /// kept after the call returns its task.
    /// </summary>
    /// <exception cref="ArgumentException">The batch is malformed, fails its CRC or is larger than the limit.</exception>
    /// <exception cref="LogWriteException">The disk is full, an I/O error occurred now or earlier, or the log is closed.</exception>
    ValueTask<LogAppendResult> AppendAsync(ReadOnlyMemory<byte> batch, CancellationToken cancellationToken = default);

    /// <summary>Completes once everything appended before the call is on disk, whatever the flush policy.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads whole stored batches starting with the one that holds <paramref name="fromOffset"/>, up to about
    /// <paramref name="maxBytes"/> (at least one batch is returned, however large) and only batches below
    /// <paramref name="maxOffset"/>. Each batch's CRC is verified.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative offset or a non-positive byte limit.</exception>
    /// <exception cref="LogCorruptedException">The first batch to return is damaged.</exception>
    /// <exception cref="ObjectDisposedException">The log is closed.</exception>
    ValueTask<LogReadResult> ReadAsync(long fromOffset, int maxBytes, long maxOffset = long.MaxValue, CancellationToken cancellationToken = default);

    /// <summary>
    /// As <see cref="ReadAsync(long, int, long, CancellationToken)"/>, and stops once the batches returned reach
    /// <paramref name="maxRecords"/> records from <paramref name="fromOffset"/> (whole batches, so it may return more);
    /// the read buffer is sized by the records asked, not only by the byte limit.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative offset or a non-positive byte or record limit.</exception>
    /// <exception cref="LogCorruptedException">The first batch to return is damaged.</exception>
    /// <exception cref="ObjectDisposedException">The log is closed.</exception>
    ValueTask<LogReadResult> ReadAsync(long fromOffset, int maxBytes, int maxRecords, long maxOffset, CancellationToken cancellationToken = default);

    /// <summary>The first offset whose record timestamp is at or after <paramref name="timestampMs"/>; <see cref="EndOffset"/> if none.</summary>
    /// <exception cref="ObjectDisposedException">The log is closed.</exception>
    ValueTask<long> FindOffsetByTimestampAsync(long timestampMs, CancellationToken cancellationToken = default);

    /// <summary>Deletes whole sealed segments past the retention time or size; returns how many were deleted.</summary>
    int ApplyRetention();

    /// <summary>
    /// Removes every record at or after <paramref name="offset"/> and returns the new <see cref="EndOffset"/>. Batches
    /// are never split: a batch that straddles <paramref name="offset"/> is removed whole. A cut also deletes the
    /// producer-state snapshot (it may describe removed batches).
    /// </summary>
    long TruncateTo(long offset);
}
