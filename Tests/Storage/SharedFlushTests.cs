using Granary.Storage;
using static Granary.Tests.Storage.LogTestKit;

namespace Granary.Tests.Storage;

/// <summary>Logs sharing a <see cref="FileSystemFlusher"/>: one syncfs makes their appends durable together.</summary>
public sealed class SharedFlushTests
{
    [Fact]
    public async Task AppendsToLogsSharingAFlusher_AreConfirmedBySyncfs_NotByAnFdatasyncOfTheirOwn()
    {
        using var root = new TempDirectory();
        string logs = Path.Combine(root.Path, "logs");

        var trace = await SyscallTrace.TraceChildAsync(["syncfs", "fdatasync", "openat"], SharedFlushChild.Command, logs);

        // From the first syncfs to the child's "confirmed" marker (both appends awaited), no segment is fdatasynced:
        // the syncfs calls are what confirmed them. Opening the logs before that fdatasyncs each new segment's header.
        int marker = trace.ToList().FindIndex(line => line.Contains("/confirmed", StringComparison.Ordinal));
        Assert.True(marker > 0, "the child never confirmed its appends");
        int firstSync = trace.ToList().FindIndex(line => line.Contains("syncfs(", StringComparison.Ordinal));
        Assert.InRange(firstSync, 0, marker - 1);
        Assert.DoesNotContain(trace.Skip(firstSync).Take(marker - firstSync), line => line.Contains("fdatasync(", StringComparison.Ordinal) && line.Contains(".log>", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ConcurrentAppendsToManyLogs_AllConfirm_ShareSyncs_AndAreThereAfterReopen()
    {
        if (!FileSystemFlusher.IsSupported) Assert.Skip("syncfs is Linux only");
        using var root = new TempDirectory();
        using var flusher = new FileSystemFlusher(root.Path);
        var options = Options();
        options.SharedFlusher = flusher;
        const int Logs = 8, AppendsPerLog = 50;
        var opened = Enumerable.Range(0, Logs).Select(i => PartitionLog.Open(Path.Combine(root.Path, $"p{i}"), options)).ToArray();
        await Task.WhenAll(opened.Select((log, i) => Task.Run(async () =>
        {
            for (int n = 0; n < AppendsPerLog; n++) await log.AppendAsync(Batch($"{i}-{n}"));
        })));
        foreach (var log in opened)
        {
            Assert.Equal(AppendsPerLog, log.FlushedOffset);
            await log.DisposeAsync();
        }

        Assert.InRange(flusher.SyncCount, 1, Logs * AppendsPerLog - 1); // shared: fewer syncs than confirmed appends
        for (int i = 0; i < Logs; i++)
        {
            await using var reopened = PartitionLog.Open(Path.Combine(root.Path, $"p{i}"), Options());
            Assert.Equal(Enumerable.Range(0, AppendsPerLog).Select(n => $"{i}-{n}"), await ReadAllPayloadsAsync(reopened));
        }
    }
}
