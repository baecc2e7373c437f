using Granary.Records;
using Microsoft.Win32.SafeHandles;

namespace Granary.Storage;

/// <summary>
/// One segment file with its sparse indexes. Bytes [0, <see cref="Size"/>) hold the header and whole batches; a
/// reader never looks past <see cref="Size"/>, which the writer publishes only after a batch is completely written.
/// Writer methods (<see cref="Append"/>, <see cref="Track"/>, <see cref="TruncateTo"/>, <see cref="SaveIndexes"/>) must
/// be called under the owning log's write lock. Readers hold a reference (<see cref="TryAcquire"/>/<see cref="Release"/>)
/// so that retention can unlink the files while a read is under way; the handle closes with the last reference.
/// Once sealed into a <see cref="SegmentHandleCache"/> (<see cref="Seal"/>), the segment's file handle may be closed
/// while idle and is opened again by the next use: every use of the handle takes a lease on it
/// (<see cref="AcquireHandle"/>/<see cref="ReleaseHandle"/>), and only a handle without leases is closed.
/// </summary>
internal sealed class LogSegment
{
    // Null while closed by the cache (sealed segments only) and after the last reference is released. Read without a
    // lock by AcquireHandle; set to null only by TryCloseIdleHandle and Release, under _handleLock.
    private SafeFileHandle? _handle;
    private readonly Lock _handleLock = new();
    // Uses of _handle under way. AcquireHandle increments it before reading _handle and TryCloseIdleHandle clears
    // _handle before reading it (both with full fences), so a handle in use is never closed.
    private int _users;
    private SegmentHandleCache? _cache; // set by Seal; the handle is only ever closed while idle when set
    private bool _pinned;   // files unlinked: a closed handle could not be opened again, so it is kept
    private bool _released; // the last reference is gone: the handle is closed for good
    private long _lastUse;
    private long _size;
    private long _nextOffset;
    private long _maxTimestampMs = long.MinValue;
    private long _lastBatchBaseOffset = -1;
    private int _bytesSinceIndexEntry;
    private int _references = 1;

    private LogSegment(string directory, long baseOffset, long createdAtMs, SafeFileHandle handle)
    {
        Directory = directory;
        BaseOffset = baseOffset;
        CreatedAtMs = createdAtMs;
        LogPath = LogFileNames.LogFile(directory, baseOffset);
        _handle = handle;
        _size = SegmentHeader.Size;
        _nextOffset = baseOffset;
    }

    public string Directory { get; }
    public string LogPath { get; }
    public long BaseOffset { get; }
    public long CreatedAtMs { get; }
    public OffsetIndex OffsetIndex { get; } = new();
    public TimeIndex TimeIndex { get; } = new();
    public long Size => Volatile.Read(ref _size);
    public long NextOffset => Volatile.Read(ref _nextOffset);
    public long MaxTimestampMs => Volatile.Read(ref _maxTimestampMs);
    public bool IsEmpty => NextOffset == BaseOffset;

    /// <summary>When the handle was last taken (<see cref="System.Diagnostics.Stopwatch"/> ticks), for the cache's LRU order.</summary>
    public long LastUseTimestamp => Volatile.Read(ref _lastUse);

    /// <summary>Whether the file handle is open now (tests and diagnostics).</summary>
    public bool HandleIsOpen => Volatile.Read(ref _handle) is not null;

    /// <summary>Creates a new segment file with its header, fsynced. The caller fsyncs the directory.</summary>
    public static LogSegment Create(string directory, long baseOffset, long createdAtMs)
    {
        string path = LogFileNames.LogFile(directory, baseOffset);
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        try
        {
            Span<byte> header = stackalloc byte[SegmentHeader.Size];
            SegmentHeader.Create(baseOffset, createdAtMs).Write(header);
            RandomAccess.Write(handle, header, 0);
            FileSync.FlushData(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        return new LogSegment(directory, baseOffset, createdAtMs, handle);
    }

    /// <summary>Wraps an existing file; recovery then replays its batches through <see cref="Track"/>.</summary>
    public static LogSegment OpenExisting(string directory, long baseOffset, long createdAtMs, SafeFileHandle handle) =>
        new(directory, baseOffset, createdAtMs, handle);

    /// <summary>
    /// Writes one batch (given as gathered pieces) at the end with one positional write, then indexes and publishes it.
    /// </summary>
    public void Append(IReadOnlyList<ReadOnlyMemory<byte>> pieces, int length, long baseOffset, int recordCount, long maxTimestampMs, int indexIntervalBytes)
    {
        long position = _size;
        var handle = AcquireHandle();
        try
        {
            RandomAccess.Write(handle, pieces, position);
        }
        finally
        {
            ReleaseHandle();
        }
        Track(position, length, baseOffset, recordCount, maxTimestampMs, indexIntervalBytes);
    }

    /// <summary>Records a whole batch at <paramref name="position"/> in the indexes and publishes it to readers.</summary>
    public void Track(long position, int length, long baseOffset, int recordCount, long maxTimestampMs, int indexIntervalBytes)
    {
        int relativeOffset = (int)(baseOffset - BaseOffset);
        if (maxTimestampMs > _maxTimestampMs) Volatile.Write(ref _maxTimestampMs, maxTimestampMs);
        if (OffsetIndex.Count == 0 || _bytesSinceIndexEntry >= indexIntervalBytes)
        {
            OffsetIndex.Add(relativeOffset, (int)position);
            if (_maxTimestampMs > TimeIndex.LastTimestampMs) TimeIndex.Add(_maxTimestampMs, relativeOffset);
            _bytesSinceIndexEntry = 0;
        }
        _bytesSinceIndexEntry += length;
        _lastBatchBaseOffset = baseOffset;
        Volatile.Write(ref _size, position + length);
        Volatile.Write(ref _nextOffset, baseOffset + recordCount);
    }

    /// <summary>Restores the state that loaded index files describe, without replaying those batches.</summary>
    public void RestoreFromIndexes(long coveredBytes, long nextOffset)
    {
        _size = coveredBytes;
        _nextOffset = nextOffset;
        _maxTimestampMs = TimeIndex.LastTimestampMs;
        // The bytes since the last entry are unknown here (they may be a damaged tail): the next batch gets an entry,
        // so reads of it never have to walk them.
        _bytesSinceIndexEntry = int.MaxValue;
        _lastBatchBaseOffset = -1;
    }

    /// <summary>Makes the next tracked batch get index entries (after a damaged region, so reads can start past it).</summary>
    public void ForceIndexEntry() => _bytesSinceIndexEntry = int.MaxValue;

    /// <summary>
    /// Publishes a damaged tail inside confirmed data: readers reaching it get a corruption error instead of an end of
    /// data, and the offsets it held are not given out again.
    /// </summary>
    public void MarkDamagedTail(long fileLength, long nextOffset)
    {
        Volatile.Write(ref _size, fileLength);
        Volatile.Write(ref _nextOffset, Math.Max(nextOffset, _nextOffset));
    }

    public int Read(long position, Span<byte> destination)
    {
        var handle = AcquireHandle();
        try
        {
            return RandomAccess.Read(handle, destination, position);
        }
        finally
        {
            ReleaseHandle();
        }
    }

    public async ValueTask<int> ReadAsync(long position, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var handle = AcquireHandle();
        try
        {
            return await RandomAccess.ReadAsync(handle, destination, position, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ReleaseHandle();
        }
    }

    public long FileLength()
    {
        var handle = AcquireHandle();
        try
        {
            return RandomAccess.GetLength(handle);
        }
        finally
        {
            ReleaseHandle();
        }
    }

    public void Flush()
    {
        var handle = AcquireHandle();
        try
        {
            FileSync.FlushData(handle); // fsync is per file, not per descriptor: a reopened handle flushes the same data
        }
        finally
        {
            ReleaseHandle();
        }
    }

    /// <summary>
    /// Takes a lease on the file handle, opening the file again if the cache closed it. Every use of the handle is
    /// between this and <see cref="ReleaseHandle"/>; the caller holds a reference to the segment (or the log's write lock).
    /// </summary>
    /// <exception cref="IOException">The file could not be opened again (running out of descriptors is recorded).</exception>
    public SafeFileHandle AcquireHandle()
    {
        Interlocked.Increment(ref _users);
        var handle = Volatile.Read(ref _handle);
        if (handle is not null)
        {
            if (_cache is not null) Volatile.Write(ref _lastUse, System.Diagnostics.Stopwatch.GetTimestamp());
            return handle;
        }
        try
        {
            return Reopen();
        }
        catch
        {
            Interlocked.Decrement(ref _users);
            throw;
        }
    }

    /// <summary>Ends a lease taken by <see cref="AcquireHandle"/>.</summary>
    public void ReleaseHandle() => Interlocked.Decrement(ref _users);

    private SafeFileHandle Reopen()
    {
        SegmentHandleCache cache;
        lock (_handleLock)
        {
            if (_handle is { } open) return open; // opened (or kept) by another thread meanwhile
            ObjectDisposedException.ThrowIf(_released, this);
            cache = _cache ?? throw new InvalidOperationException($"{LogPath} has no handle and no cache to open it with.");
        }
        // Opened outside the segment's lock: running out of descriptors makes the cache close other segments'
        // handles, under their locks, and two segments doing that while holding their own could deadlock.
        var handle = cache.OpenFile(LogPath);
        bool over;
        lock (_handleLock)
        {
            if (_handle is not null || _released)
            {
                handle.Dispose();
                ObjectDisposedException.ThrowIf(_released, this);
                return _handle!; // another thread opened it meanwhile
            }
            Volatile.Write(ref _lastUse, System.Diagnostics.Stopwatch.GetTimestamp());
            Volatile.Write(ref _handle, handle);
            over = !_pinned && cache.Add(this);
        }
        if (over) cache.Trim(); // outside the segment's lock too
        return handle;
    }

    /// <summary>
    /// Hands the handle of this segment, now sealed (no more appends), to <paramref name="cache"/>, which may close it
    /// while idle. Null keeps the handle open for the segment's life, as for the active segment.
    /// </summary>
    public void Seal(SegmentHandleCache? cache)
    {
        if (cache is null) return;
        bool over;
        lock (_handleLock)
        {
            if (_cache is not null || _released || _pinned) return;
            _cache = cache;
            Volatile.Write(ref _lastUse, System.Diagnostics.Stopwatch.GetTimestamp());
            over = _handle is not null && cache.Add(this);
        }
        if (over) cache.Trim();
    }

    /// <summary>
    /// Closes the handle if the segment is sealed in a cache and nobody uses it; true when it is closed now (also when
    /// it already was), so the cache stops counting it.
    /// </summary>
    public bool TryCloseIdleHandle()
    {
        lock (_handleLock)
        {
            if (_pinned || _cache is null) return false;
            if (_handle is null)
            {
                _cache.Remove(this); // already closed: make sure it is not counted
                return true;
            }
            var handle = Interlocked.Exchange(ref _handle, null)!;
            if (Volatile.Read(ref _users) != 0)
            {
                Volatile.Write(ref _handle, handle); // in use: AcquireHandle saw it before it was cleared
                return false;
            }
            handle.Dispose();
            _cache.Remove(this);
            return true;
        }
    }

    /// <summary>
    /// Writes both index files. The time index gets a last entry for the newest timestamp so that, loaded again,
    /// it still tells the segment's largest timestamp (retention by age needs it).
    /// </summary>
    public void SaveIndexes()
    {
        if (_lastBatchBaseOffset >= 0 && _maxTimestampMs > TimeIndex.LastTimestampMs)
            TimeIndex.Add(_maxTimestampMs, (int)(_lastBatchBaseOffset - BaseOffset));
        OffsetIndex.Save(LogFileNames.OffsetIndexFile(Directory, BaseOffset), Size, NextOffset);
        TimeIndex.Save(LogFileNames.TimeIndexFile(Directory, BaseOffset), Size, NextOffset);
    }

    /// <summary>
    /// Cuts the file at <paramref name="position"/> (a batch boundary) and forgets what followed. The saved index files
    /// go too: they describe the old bytes, and new batches written past the cut would not match them after a crash.
    /// </summary>
    public void TruncateTo(long position, long nextOffset)
    {
        // Recovery cuts a torn tail it never tracked: the batches kept, and so the max timestamp, stay as they are.
        bool dropsTrackedBatches = position < _size;
        File.Delete(LogFileNames.OffsetIndexFile(Directory, BaseOffset));
        File.Delete(LogFileNames.TimeIndexFile(Directory, BaseOffset));
        var handle = AcquireHandle();
        try
        {
            RandomAccess.SetLength(handle, position);
        }
        finally
        {
            ReleaseHandle();
        }
        OffsetIndex.TruncateFromPosition(position);
        TimeIndex.TruncateFromOffset(nextOffset - BaseOffset);
        _bytesSinceIndexEntry = int.MaxValue;
        if (dropsTrackedBatches) RecomputeMaxTimestamp(position);
        Volatile.Write(ref _size, position);
        Volatile.Write(ref _nextOffset, nextOffset);
    }

    /// <summary>
    /// The largest timestamp of the batches before <paramref name="end"/>, after a truncation cut the rest: the last
    /// time index entry covers the batches up to its own, and the batches after it are read. The time index alone is
    /// not enough: it only gets an entry per index interval, so it may lag the batches kept.
    /// </summary>
    private void RecomputeMaxTimestamp(long end)
    {
        long max = TimeIndex.LastTimestampMs;
        long lastBase = -1;
        if (max < _maxTimestampMs)
        {
            var lastEntry = TimeIndex.LastRelativeOffset is { } relative ? OffsetIndex.FindFloor(relative) : null;
            long position = lastEntry?.Position ?? SegmentHeader.Size;
            long expected = BaseOffset + (lastEntry?.RelativeOffset ?? 0);
            while (position < end)
            {
                if (ReadBatchHeader(position, end, expected, out int total, out int count, out long batchMax) is not null)
                {
                    // Damage in what is kept: an estimate above the truth only keeps data longer, one below loses it.
                    // Not saved with the indexes (no last batch known), so the next open falls back to the index.
                    max = _maxTimestampMs;
                    lastBase = -1;
                    break;
                }
                max = Math.Max(max, batchMax);
                lastBase = expected;
                expected += count;
                position += total;
            }
        }
        _lastBatchBaseOffset = lastBase; // lets SaveIndexes record the max for the next open
        Volatile.Write(ref _maxTimestampMs, max);
    }

    /// <summary>
    /// Reads the header of the batch at <paramref name="position"/> and checks that it is plausible, ends by
    /// <paramref name="end"/> and has base offset <paramref name="expectedOffset"/>. Null when it does, else why not.
    /// The CRC is not checked: callers walk batches that recovery or an append already verified, and only need to
    /// stop at damage instead of misreading it.
    /// </summary>
    public string? ReadBatchHeader(long position, long end, long expectedOffset, out int totalSize, out int recordCount, out long maxTimestampMs)
    {
        totalSize = recordCount = 0;
        maxTimestampMs = long.MinValue;
        Span<byte> header = stackalloc byte[RecordBatchCodec.MinHeaderSize];
        if (end - position < header.Length || Read(position, header) < header.Length) return "segment ends inside a batch header";
        if (RecordBatchCodec.CheckHeader(header, end - position) is { } problem) return problem;
        long baseOffset = RecordBatchCodec.ReadBaseOffset(header);
        if (baseOffset != expectedOffset) return $"batch has base offset {baseOffset} where {expectedOffset} was expected";
        totalSize = (int)RecordBatchCodec.ReadTotalSize(header);
        recordCount = RecordBatchCodec.ReadRecordCount(header);
        maxTimestampMs = RecordBatchCodec.ReadMaxTimestamp(header);
        return null;
    }

    public bool TryAcquire()
    {
        int current = Volatile.Read(ref _references);
        while (current > 0)
        {
            int seen = Interlocked.CompareExchange(ref _references, current + 1, current);
            if (seen == current) return true;
            current = seen;
        }
        return false;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0) return;
        lock (_handleLock)
        {
            _released = true;
            Interlocked.Exchange(ref _handle, null)?.Dispose();
            _cache?.Remove(this);
        }
    }

    /// <summary>Unlinks the files now; the handle stays usable by readers that hold a reference until they release it.</summary>
    public void Delete()
    {
        try
        {
            Pin();
            // Index files first: recovery takes an index left without its .log as proof that a segment was lost (a
            // crash in between leaves a .log without indexes, which is only rebuilt).
            File.Delete(LogFileNames.OffsetIndexFile(Directory, BaseOffset));
            File.Delete(LogFileNames.TimeIndexFile(Directory, BaseOffset));
            File.Delete(LogPath);
        }
        finally
        {
            Release(); // the caller has already dropped the segment from the list: nothing else would close it
        }
    }

    /// <summary>
    /// Before the files are unlinked: a reader that took the segment from the list before it was dropped may still
    /// read it, and an unlinked file cannot be opened again, so the handle is opened if the cache closed it and is
    /// kept until the last reference goes. Failing to open it (out of descriptors) only fails such a late reader.
    /// </summary>
    private void Pin()
    {
        SegmentHandleCache? cache;
        lock (_handleLock)
        {
            if (_pinned || _released) return;
            _pinned = true;
            cache = _cache;
            if (cache is null) return;
            cache.Remove(this); // kept open outside the cache's count until the readers release it
            if (_handle is not null) return;
        }
        SafeFileHandle handle;
        try
        {
            handle = cache.OpenFile(LogPath); // outside the lock, as in Reopen
        }
        catch (IOException)
        {
            return; // a reader still holding the segment gets an I/O error instead of its records; nothing is lost
        }
        lock (_handleLock)
        {
            if (_handle is null && !_released) Volatile.Write(ref _handle, handle);
            else handle.Dispose();
        }
    }
}
