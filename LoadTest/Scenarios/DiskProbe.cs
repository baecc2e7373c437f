using System.Diagnostics;
using Granary.LoadTest.Reporting;
using Granary.Storage;

namespace Granary.LoadTest.Scenarios;

/// <summary>The raw limits of a disk, measured with the same calls the engine uses: positional writes and fdatasync.</summary>
internal static class DiskProbe
{
    /// <summary>Sequential write+fdatasync of <paramref name="writeBytes"/>-byte chunks: bytes per second.</summary>
    public static double SequentialSyncedBandwidth(string directory, int writeBytes, TimeSpan duration)
    {
        var (operations, elapsed) = WriteAndSync(directory, writeBytes, duration);
        return operations * (double)writeBytes / elapsed.TotalSeconds;
    }

    /// <summary>Single-thread write+fdatasync of <paramref name="writeBytes"/>-byte appends: operations per second.</summary>
    public static double SyncedWriteRate(string directory, int writeBytes, TimeSpan duration)
    {
        var (operations, elapsed) = WriteAndSync(directory, writeBytes, duration);
        return operations / elapsed.TotalSeconds;
    }

    /// <summary>
    /// Single-thread appends of <paramref name="writeBytes"/> bytes, each a positional write then fdatasync: the time of
    /// each pair, for the W4 target (a serial send's p50 against the same run's raw pwrite+fdatasync p50).
    /// </summary>
    public static LatencyRecorder SyncedWriteLatency(string directory, int writeBytes, TimeSpan duration)
    {
        var latency = new LatencyRecorder();
        WriteAndSync(directory, writeBytes, duration, latency);
        return latency;
    }

    private static (long Operations, TimeSpan Elapsed) WriteAndSync(string directory, int writeBytes, TimeSpan duration, LatencyRecorder? latency = null)
    {
        string path = Path.Combine(directory, $"probe-{Guid.NewGuid():N}");
        var buffer = new byte[writeBytes];
        new Random(1).NextBytes(buffer);
        // Opened exactly as a segment file is, so that the only difference left is the engine itself.
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        try
        {
            long position = 0, operations = 0;
            var stopwatch = Stopwatch.StartNew();
            while (stopwatch.Elapsed < duration)
            {
                long started = Stopwatch.GetTimestamp();
                RandomAccess.Write(handle, buffer, position);
                FileSync.FlushData(handle);
                latency?.Record(Stopwatch.GetTimestamp() - started);
                position += writeBytes;
                operations++;
            }
            return (operations, stopwatch.Elapsed);
        }
        finally
        {
            handle.Dispose();
            File.Delete(path);
        }
    }
}
