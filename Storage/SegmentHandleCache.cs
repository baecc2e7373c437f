using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Granary.Storage;

/// <summary>
/// Bounds the file handles that sealed segments hold open, over every log that shares it (one per silo). A sealed
/// segment opens its file on the first read after its handle was closed; once more than <see cref="Capacity"/> sealed
/// segments have a handle open, the least recently used idle ones are closed. A handle in use by a read, a flush or a
/// truncation is never closed under it: the cache may then stay above its capacity until those finish. Active
/// segments (one per open log, used by every append) are not counted here. Thread-safe.
/// </summary>
public sealed class SegmentHandleCache
{
    private readonly HashSet<LogSegment> _open = [];
    private readonly Lock _lock = new();
    private long _evictions;

    /// <summary>A cache that keeps at most <paramref name="capacity"/> idle sealed-segment handles open.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is less than 1.</exception>
    public SegmentHandleCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    /// <summary>Most sealed-segment handles kept open while idle.</summary>
    public int Capacity { get; }

    /// <summary>Sealed-segment handles open now (in use or idle).</summary>
    public int OpenHandles
    {
        get { lock (_lock) return _open.Count; }
    }

    /// <summary>How many idle handles were closed to stay within <see cref="Capacity"/> (or after running out of descriptors).</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>
    /// The default capacity: a quarter of the process's open-file limit (<see cref="ProcessOpenFileLimit"/>), at most
    /// 4096 and at least 16; 4096 when the limit cannot be read.
    /// </summary>
    public static int DefaultCapacity() =>
        ProcessOpenFileLimit() is { } limit ? (int)Math.Clamp(limit / 4, 16, 4096) : 4096;

    /// <summary>
    /// The process's soft limit on open files (RLIMIT_NOFILE), read from /proc/self/limits; null when it cannot be
    /// read (not Linux) or is unlimited.
    /// </summary>
    public static long? ProcessOpenFileLimit()
    {
        try
        {
            if (!OperatingSystem.IsLinux()) return null;
            foreach (string line in File.ReadLines("/proc/self/limits"))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal)) continue;
                string[] parts = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return parts.Length > 0 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long soft) ? soft : null;
            }
        }
        catch (IOException)
        {
            // not readable here: no limit known
        }
        catch (UnauthorizedAccessException)
        {
            // not readable here: no limit known
        }
        return null;
    }

    /// <summary>
    /// Opens a segment file for reading and writing. Running out of descriptors closes every idle handle here and tries
    /// once more; failing again, the error is recorded (<see cref="OpenFileExhaustion"/>) and thrown.
    /// </summary>
    internal SafeFileHandle OpenFile(string path)
    {
        try
        {
            return Open(path);
        }
        catch (IOException e) when (OpenFileExhaustion.IsTooManyOpenFiles(e))
        {
            EvictIdle(0);
            try
            {
                return Open(path);
            }
            catch (IOException again) when (OpenFileExhaustion.Observe(again))
            {
                throw;
            }
        }

        static SafeFileHandle Open(string path) =>
            File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
    }

    /// <summary>Counts a sealed segment whose handle is open. Called under the segment's handle lock.</summary>
    internal bool Add(LogSegment segment)
    {
        lock (_lock)
        {
            _open.Add(segment);
            return _open.Count > Capacity;
        }
    }

    /// <summary>Stops counting a segment whose handle closed or that left the cache. Called under the segment's handle lock.</summary>
    internal void Remove(LogSegment segment)
    {
        lock (_lock) _open.Remove(segment);
    }

    /// <summary>Closes least recently used idle handles until at most <see cref="Capacity"/> are open.</summary>
    internal void Trim()
    {
        // Trims a little below the capacity, so that a working set just above it sorts the candidates once per
        // sixteenth of the capacity instead of once per open.
        EvictIdle(Capacity - Capacity / 16);
    }

    /// <summary>Closes least recently used idle handles until at most <paramref name="target"/> are open (or none idle are left).</summary>
    private void EvictIdle(int target)
    {
        LogSegment[] candidates;
        lock (_lock)
        {
            if (_open.Count <= target) return;
            candidates = [.. _open];
        }
        // Segment locks are taken only after the cache's lock is released: a segment opening its file holds its own
        // lock while it adds itself here, so the other order could deadlock.
        var lastUse = Array.ConvertAll(candidates, s => s.LastUseTimestamp);
        Array.Sort(lastUse, candidates);
        int excess = candidates.Length - target;
        foreach (var segment in candidates)
        {
            if (excess <= 0) break;
            if (segment.TryCloseIdleHandle())
            {
                Interlocked.Increment(ref _evictions);
                excess--;
            }
        }
    }
}
