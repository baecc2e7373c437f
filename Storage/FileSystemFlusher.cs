namespace Granary.Storage;

/// <summary>
/// Group commit across logs: one syncfs(2) makes everything written to the filesystem durable, so many partition logs
/// that need a flush at the same time share one call instead of one fdatasync each (1,000 busy partitions otherwise
/// mean 1,000 device flushes per round). Requests that arrive while a syncfs runs wait for the next one, which starts as
/// soon as the running one returns. Linux only (<see cref="IsSupported"/>).
/// </summary>
/// <remarks>
/// syncfs covers one filesystem: every log that uses a flusher must live on the filesystem of the directory it was
/// created for. It also writes back whatever else is dirty on that filesystem, which is the price of the one call.
/// Since Linux 5.8 it reports writeback errors of the filesystem that happened since the flusher was created.
/// </remarks>
public sealed class FileSystemFlusher : IDisposable
{
    private readonly int _fd;
    private readonly Lock _gate = new();
    private TaskCompletionSource? _next;
    private bool _running;
    private bool _disposed;
    private long _syncCount;

    /// <summary>Opens <paramref name="directory"/> (which must exist) to flush its filesystem.</summary>
    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    public FileSystemFlusher(string directory)
    {
        if (!IsSupported) throw new PlatformNotSupportedException("syncfs(2) is Linux only; use per-log flushes elsewhere.");
        Directory = directory;
        _fd = FileSync.OpenDirectory(directory);
    }

    /// <summary>True where syncfs(2) exists (Linux).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>The directory whose filesystem this flusher syncs.</summary>
    public string Directory { get; }

    /// <summary>How many syncfs calls completed.</summary>
    public long SyncCount => Interlocked.Read(ref _syncCount);

    /// <summary>
    /// Completes once a syncfs that started after this call has returned: everything written before the call is then
    /// on stable storage. Faults with an <see cref="IOException"/> when that syncfs failed.
    /// </summary>
    public Task FlushAsync()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var next = _next ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_running)
            {
                _running = true;
                _ = Task.Run(SyncWhileRequested);
            }
            return next.Task;
        }
    }

    /// <summary>
    /// When no syncfs is running or requested, runs one on the calling thread and returns true once it returned:
    /// everything written before the call is then on stable storage. Otherwise returns false at once, having flushed
    /// nothing (call <see cref="FlushAsync"/> to join the group). Requests that arrive meanwhile are served by the next
    /// syncfs, which this call starts on the thread pool before it returns, as <see cref="FlushAsync"/> would.
    /// </summary>
    /// <remarks>
    /// For a lone writer: its confirm then waits for the syscall only, not for a thread to wake for it and another to
    /// wake for the result (two hand-offs that cost about as much as the syscall on a busy machine). The caller's
    /// thread is blocked for the syncfs, so only a caller that can afford that (a writer with nothing else to do until
    /// it is durable) uses it; under load the flusher is rarely idle and writers join the group as before.
    /// </remarks>
    /// <exception cref="IOException">The syncfs failed.</exception>
    public bool TryFlushOnCallerThread()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_running || _next is not null) return false;
            _running = true;
        }
        try
        {
            FileSync.SyncFileSystem(_fd, Directory);
            Interlocked.Increment(ref _syncCount);
        }
        finally
        {
            // Requests that came during the call wait for the next syncfs: started here, never run on this thread.
            lock (_gate)
            {
                if (_next is not null) _ = Task.Run(SyncWhileRequested);
                else
                {
                    _running = false;
                    if (_disposed) FileSync.CloseDirectory(_fd); // disposed during the call: the handle was left to it
                }
            }
        }
        return true;
    }

    private void SyncWhileRequested()
    {
        while (true)
        {
            TaskCompletionSource waiters;
            lock (_gate)
            {
                if (_next is null)
                {
                    _running = false;
                    if (_disposed) FileSync.CloseDirectory(_fd); // disposed while this loop ran: the handle was left to it
                    return;
                }
                // Taken before the call: a request from now on waits for the next syncfs, never for this one.
                waiters = _next;
                _next = null;
            }
            try
            {
                FileSync.SyncFileSystem(_fd, Directory);
                Interlocked.Increment(ref _syncCount);
                waiters.TrySetResult();
            }
            catch (Exception e)
            {
                waiters.TrySetException(e);
            }
        }
    }

    /// <summary>Closes the directory handle (after a syncfs in progress). Call once no log uses the flusher any more.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            if (!_running) FileSync.CloseDirectory(_fd);
        }
    }
}
