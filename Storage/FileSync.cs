using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Granary.Storage;

/// <summary>
/// Forcing data to disk. On Linux it uses fdatasync(2), which skips the metadata an append does not need
/// (mtime); elsewhere it falls back to <see cref="RandomAccess.FlushToDisk"/>. Directories are fsynced after a
/// file is created or renamed so that the name itself survives a crash.
/// </summary>
public static partial class FileSync
{
    private const int ENOSPC = 28;
    private const int EDQUOT = 122;

    /// <summary>
    /// Called after every completed fsync-type call with the call's name (<c>fdatasync</c> or <c>syncfs</c>) and the
    /// <see cref="Stopwatch.GetTimestamp"/> it started at, so the host can measure them (the storage engine records no
    /// metrics itself). Set once by the host; must not throw. Default null.
    /// </summary>
    public static Action<string, long>? FlushTimed { get; set; }

    /// <summary>Forces the file's data (and the size, when it changed) to stable storage.</summary>
    public static void FlushData(SafeFileHandle handle)
    {
        long started = Stopwatch.GetTimestamp();
        if (OperatingSystem.IsLinux())
        {
            if (fdatasync(handle) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new IOException($"fdatasync failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
            }
        }
        else
        {
            RandomAccess.FlushToDisk(handle);
        }
        // Only completed calls: a failed one says nothing about how long the disk takes.
        FlushTimed?.Invoke("fdatasync", started);
    }

    /// <summary>Makes created, renamed or deleted names in <paramref name="directory"/> durable. No-op where unsupported.</summary>
    public static void FlushDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux()) return;
        int fd = OpenDirectory(directory);
        try
        {
            if (fsync(fd) != 0) throw LastError("fsync", directory);
        }
        finally
        {
            CloseDirectory(fd);
        }
    }

    /// <summary>A read-only descriptor of <paramref name="directory"/> (Linux), for fsync or syncfs.</summary>
    internal static int OpenDirectory(string directory)
    {
        int fd = open(directory, 0 /* O_RDONLY */);
        return fd >= 0 ? fd : throw LastError("open", directory);
    }

    internal static void CloseDirectory(int fd) => _ = close(fd);

    /// <summary>syncfs(2): writes back everything dirty on the filesystem of <paramref name="fd"/> and waits for it.</summary>
    internal static void SyncFileSystem(int fd, string directory)
    {
        long started = Stopwatch.GetTimestamp();
        if (syncfs(fd) != 0) throw LastError("syncfs", directory);
        FlushTimed?.Invoke("syncfs", started);
    }

    private static IOException LastError(string call, string path)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call}('{path}') failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
    }

    /// <summary>True when <paramref name="exception"/> reports a full disk or an exceeded quota.</summary>
    public static bool IsDiskFull(IOException exception) =>
        exception.HResult is ENOSPC or EDQUOT
        || (exception.HResult & 0xFFFF) is 0x70 /* ERROR_DISK_FULL */ or 0x27 /* ERROR_HANDLE_DISK_FULL */
        || exception.Message.Contains("No space left on device", StringComparison.OrdinalIgnoreCase);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fdatasync(SafeFileHandle fd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int syncfs(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
