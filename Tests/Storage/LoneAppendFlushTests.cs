using Granary.Storage;
using static Granary.Tests.Storage.LogTestKit;

namespace Granary.Tests.Storage;

/// <summary>
/// A lone append under <see cref="FlushPolicy.Always"/> that asks for it flushes on its own thread (no hand-off to the
/// flush loop or the shared flusher's thread), and is still confirmed only once flushed; concurrent ones still share.
/// </summary>
public sealed class LoneAppendFlushTests
{
    [Fact]
    public async Task LoneAppend_WithItsOwnFdatasync_IsFlushedBeforeTheCallReturns()
    {
        using var dir = new TempDirectory();
        await using var log = PartitionLog.Open(dir.Path, Options());

        var pending = log.AppendValidatedAsync(Batch("a", "b"), flushOnCallerThreadWhenIdle: true);

        // Complete on return: flushed in the call, not by the flush loop (which today's path waits for).
        Assert.True(pending.IsCompletedSuccessfully);
        Assert.Equal(2, log.FlushedOffset);
        Assert.Equal(1, log.FlushCount);
        Assert.Equal(0, (await pending).BaseOffset);
    }

    [Fact]
    public async Task LoneAppend_WithASharedFlusher_IsFlushedBySyncfsBeforeTheCallReturns()
    {
        if (!FileSystemFlusher.IsSupported) Assert.Skip("syncfs is Linux only");
        using var root = new TempDirectory();
        using var flusher = new FileSystemFlusher(root.Path);
        var options = Options();
        options.SharedFlusher = flusher;
        await using var log = PartitionLog.Open(Path.Combine(root.Path, "p0"), options);

        var pending = log.AppendValidatedAsync(Batch("a"), flushOnCallerThreadWhenIdle: true);

        Assert.True(pending.IsCompletedSuccessfully);
        Assert.Equal(1, flusher.SyncCount);
        Assert.Equal(1, log.FlushedOffset);
    }

    [Fact]
    public async Task FlusherBusy_TryFlushOnCallerThread_RefusesWithoutSyncing_AndTheWaitingRequestIsServed()
    {
        if (!FileSystemFlusher.IsSupported) Assert.Skip("syncfs is Linux only");
        using var root = new TempDirectory();
        using var flusher = new FileSystemFlusher(root.Path);

        // A request is pending or its syncfs runs until the task completes: meanwhile the caller must join, not sync.
        var requested = flusher.FlushAsync();
        bool inline = flusher.TryFlushOnCallerThread();
        await requested;
        if (inline) Assert.Equal(2, flusher.SyncCount); // the request was served before the call: it synced alone
        else Assert.Equal(1, flusher.SyncCount);

        // Idle again: the caller syncs on its own thread.
        long before = flusher.SyncCount;
        Assert.True(flusher.TryFlushOnCallerThread());
        Assert.Equal(before + 1, flusher.SyncCount);
    }

    [Fact]
    public async Task ConcurrentAppendsAskingToFlushAlone_AreEachConfirmedOnlyOnceFlushed_InOrder_AndShareFlushes()
    {
        if (!FileSystemFlusher.IsSupported) Assert.Skip("syncfs is Linux only");
        using var root = new TempDirectory();
        using var flusher = new FileSystemFlusher(root.Path);
        var options = Options();
        options.SharedFlusher = flusher;
        const int Logs = 4, Writers = 4, AppendsPerWriter = 100;
        var opened = Enumerable.Range(0, Logs).Select(i => PartitionLog.Open(Path.Combine(root.Path, $"p{i}"), options)).ToArray();
        var violations = new System.Collections.Concurrent.ConcurrentBag<string>();
        var offsetsByWriter = new List<long>[Logs * Writers];

        await Task.WhenAll(Enumerable.Range(0, Logs * Writers).Select(w => Task.Run(async () =>
        {
            var log = opened[w % Logs];
            var offsets = offsetsByWriter[w] = [];
            for (int n = 0; n < AppendsPerWriter; n++)
            {
                var appended = await log.AppendValidatedAsync(Batch($"{w}-{n}"), flushOnCallerThreadWhenIdle: true);
                // Confirmed means durable: the log's flushed offset covers the append the moment it is confirmed.
                if (log.FlushedOffset < appended.BaseOffset + appended.RecordCount)
                    violations.Add($"writer {w} append {n} at {appended.BaseOffset} confirmed with flushed offset {log.FlushedOffset}");
                offsets.Add(appended.BaseOffset);
            }
        })));

        Assert.Empty(violations);
        foreach (var offsets in offsetsByWriter) Assert.Equal(offsets.Order(), offsets); // each writer's appends in call order
        Assert.InRange(flusher.SyncCount, 1, Logs * Writers * AppendsPerWriter - 1); // shared: fewer syncs than appends
        foreach (var log in opened) await log.DisposeAsync();
        for (int i = 0; i < Logs; i++)
        {
            await using var reopened = PartitionLog.Open(Path.Combine(root.Path, $"p{i}"), Options());
            var payloads = await ReadAllPayloadsAsync(reopened);
            Assert.Equal(Writers * AppendsPerWriter, payloads.Count);
            for (int w = i; w < Logs * Writers; w += Logs)
            {
                string prefix = $"{w}-";
                Assert.Equal(Enumerable.Range(0, AppendsPerWriter).Select(n => $"{w}-{n}"), payloads.Where(p => p.StartsWith(prefix, StringComparison.Ordinal)));
            }
        }
    }

    [Fact]
    public async Task LoneAppend_OnAFullDisk_FailsTyped_AndTheLogRefusesFurtherWrites()
    {
        using var disk = TmpfsMount.MountOrSkip(sizeKiB: 1024);
        File.WriteAllBytes(Path.Combine(disk.Path, "ballast"), new byte[256 * 1024]);
        await using var log = PartitionLog.Open(Path.Combine(disk.Path, "orders-0"), Options(segmentBytes: 192 * 1024));
        LogWriteException? failure = null;
        for (int i = 0; i < 1000 && failure is null; i++)
        {
            ValueTask<LogAppendResult> pending;
            try
            {
                pending = log.AppendValidatedAsync(Batch($"{i}:{new string('d', 8000)}"), flushOnCallerThreadWhenIdle: true);
            }
            catch (LogWriteException e)
            {
                failure = e; // the write itself failed (before any flush): thrown, as before
                break;
            }
            try
            {
                await pending;
            }
            catch (LogWriteException e)
            {
                failure = e;
            }
        }
        Assert.NotNull(failure);
        Assert.True(failure.IsDiskFull, failure.ToString());
        var again = await Assert.ThrowsAsync<LogWriteException>(async () => await log.AppendValidatedAsync(Batch("tiny"), flushOnCallerThreadWhenIdle: true));
        Assert.Equal(LogWriteFailure.DiskFull, again.Failure);
    }
}
