using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Granary.LoadTest.Scenarios;

/// <summary>
/// Blocks the calling thread for a sub-millisecond time. Timers and <see cref="Thread.Sleep(int)"/> work in whole
/// milliseconds, too coarse to pace 10,000 messages a second; spinning instead takes a core from the silo under test
/// on a small machine. On Linux this is nanosleep (accurate to the kernel's timer slack, about 50 µs); elsewhere it
/// yields the thread until the time has passed.
/// </summary>
internal static partial class ShortSleep
{
    public static void For(long stopwatchTicks)
    {
        if (stopwatchTicks <= 0) return;
        if (OperatingSystem.IsLinux())
        {
            long nanoseconds = stopwatchTicks * 1_000_000_000 / Stopwatch.Frequency;
            var request = new Timespec { Seconds = (nint)(nanoseconds / 1_000_000_000), Nanoseconds = (nint)(nanoseconds % 1_000_000_000) };
            nanosleep(in request, IntPtr.Zero); // an early return (a signal) only makes this wait shorter
            return;
        }
        long until = Stopwatch.GetTimestamp() + stopwatchTicks;
        while (Stopwatch.GetTimestamp() < until) Thread.Yield();
    }

    // time_t and long: the word size of the platform.
    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public nint Seconds;
        public nint Nanoseconds;
    }

    [LibraryImport("libc")]
    private static partial int nanosleep(in Timespec request, IntPtr remaining);
}
