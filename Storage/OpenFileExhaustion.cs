namespace Granary.Storage;

/// <summary>
/// Running out of file descriptors (EMFILE: the process's limit; ENFILE: the system's) is an operational state, not
/// a fault of one log: this class recognises it and remembers when it was last seen, so callers turn it into a
/// retriable error instead of a crash and the host reports it in its health. Thread-safe.
/// </summary>
public static class OpenFileExhaustion
{
    private const int ENFILE = 23;
    private const int EMFILE = 24;
    private static long _lastSeenUnixMs;
    private static long _count;

    /// <summary>True when <paramref name="exception"/> says the process or the system has too many open files.</summary>
    public static bool IsTooManyOpenFiles(Exception exception) =>
        exception is IOException io
        && (io.HResult is EMFILE or ENFILE
            || io.Message.Contains("Too many open files", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Records <paramref name="exception"/> when it is a too-many-open-files error and returns whether it was. Meant for
    /// exception filters: <c>catch (IOException e) when (OpenFileExhaustion.Observe(e))</c>.
    /// </summary>
    /// <param name="exception">The error seen.</param>
    /// <param name="time">The clock the time it was seen is read from; <see cref="TimeProvider.System"/> when null.</param>
    public static bool Observe(Exception exception, TimeProvider? time = null)
    {
        if (!IsTooManyOpenFiles(exception)) return false;
        Interlocked.Increment(ref _count);
        Volatile.Write(ref _lastSeenUnixMs, (time ?? TimeProvider.System).GetUtcNow().ToUnixTimeMilliseconds());
        return true;
    }

    /// <summary>How many too-many-open-files errors were observed since the process started.</summary>
    public static long Count => Interlocked.Read(ref _count);

    /// <summary>When the last one was observed; null when never.</summary>
    public static DateTimeOffset? LastSeen =>
        Volatile.Read(ref _lastSeenUnixMs) is var ms and > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    /// <summary>True when one was observed within <paramref name="window"/> before now on <paramref name="time"/> (the system clock when null).</summary>
    public static bool SeenWithin(TimeSpan window, TimeProvider? time = null) =>
        LastSeen is { } last && (time ?? TimeProvider.System).GetUtcNow() - last <= window;
}
