using Granary.Grains;
using Granary.Grains.Hosting;
using Granary.Grains.Partitions;
using Granary.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static Granary.Tests.Storage.LogTestKit;

namespace Granary.Tests.Storage;

/// <summary>
/// Issue 16, item 5: open file handles are bounded. Sealed segments share a <see cref="SegmentHandleCache"/> that
/// opens their files on demand and closes least recently used idle ones beyond its capacity; the number of open logs
/// (one active segment handle each) is bounded by <see cref="PartitionLogManager"/>.
/// </summary>
public sealed class SegmentHandleCacheTests
{
    private static PartitionLogOptions CachedOptions(SegmentHandleCache cache, FlushPolicy policy = FlushPolicy.None)
    {
        var options = Options(policy, segmentBytes: 4096);
        options.SharedHandleCache = cache;
        return options;
    }

    private static string Payload(int i) => $"{i}:{new string((char)('a' + i % 26), 900)}";

    private static async Task<PartitionLog> ManySegmentsAsync(string directory, SegmentHandleCache cache, int records)
    {
        var log = PartitionLog.Open(directory, CachedOptions(cache));
        for (int i = 0; i < records; i++) await log.AppendAsync(Batch(Payload(i)));
        return log;
    }

    /// <summary>Segment files of <paramref name="directory"/> this process has open (deleted ones included).</summary>
    private static int OpenSegmentFiles(string directory)
    {
        string prefix = Path.GetFullPath(directory) + Path.DirectorySeparatorChar;
        int count = 0;
        foreach (var fd in new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos())
        {
            string? target;
            try { target = fd.LinkTarget; }
            catch (IOException) { continue; } // closed meanwhile
            if (target is not null && target.StartsWith(prefix, StringComparison.Ordinal) && target.Contains(LogFileNames.LogSuffix, StringComparison.Ordinal)) count++;
        }
        return count;
    }

    [Fact]
    public async Task ReadingEverySealedSegment_KeepsOpenHandlesWithinTheCap_AndReadsEveryRecord()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "counts /proc/self/fd");
        using var dir = new TempDirectory();
        var cache = new SegmentHandleCache(4);
        var log = await ManySegmentsAsync(dir.Path, cache, 200);
        try
        {
            Assert.True(log.SegmentCount >= 40, $"only {log.SegmentCount} segments");
            Assert.True(OpenSegmentFiles(dir.Path) <= 4 + 1, $"{OpenSegmentFiles(dir.Path)} segment files open after appending");

            // Read segment by segment, checking the bound after every read.
            var records = new List<string>();
            long offset = log.StartOffset;
            while (offset < log.EndOffset)
            {
                using var result = await log.ReadAsync(offset, 2048);
                Assert.Equal(LogReadStatus.Ok, result.Status);
                foreach (var batch in result.GetBatches())
                    foreach (var record in batch) records.Add(Encoding.UTF8.GetString(record.Payload.Span));
                offset = result.NextOffset;
                Assert.True(cache.OpenHandles <= 4, $"{cache.OpenHandles} cached handles");
                Assert.True(OpenSegmentFiles(dir.Path) <= 4 + 1, $"{OpenSegmentFiles(dir.Path)} segment files open while reading");
            }
            Assert.Equal(Enumerable.Range(0, 200).Select(Payload), records);
            Assert.True(cache.Evictions > 0);
        }
        finally
        {
            await log.DisposeAsync();
        }
        Assert.Equal(0, OpenSegmentFiles(dir.Path));
        Assert.Equal(0, cache.OpenHandles);

        // Recovery of all those segments stays within the cap too, and the log reads back whole.
        await using var reopened = PartitionLog.Open(dir.Path, CachedOptions(cache));
        Assert.True(OpenSegmentFiles(dir.Path) <= 4 + 1, $"{OpenSegmentFiles(dir.Path)} segment files open after recovery");
        Assert.Equal(Enumerable.Range(0, 200).Select(Payload), await ReadAllPayloadsAsync(reopened));
        Assert.True(OpenSegmentFiles(dir.Path) <= 4 + 1);
    }

    [Fact]
    public async Task ConcurrentReaders_WhileHandlesAreEvicted_ReadEveryRecordCorrectly()
    {
        using var dir = new TempDirectory();
        var cache = new SegmentHandleCache(2);
        await using var log = await ManySegmentsAsync(dir.Path, cache, 150);
        var expected = Enumerable.Range(0, 150).Select(Payload).ToList();

        // Eight readers, each reading the whole log three times from its own (seeded) starting points, in small
        // reads, so handles are opened, used and closed under one another all the time.
        var readers = Enumerable.Range(0, 8).Select(reader => Task.Run(async () =>
        {
            var random = new Random(reader);
            for (int pass = 0; pass < 3; pass++)
            {
                long from = random.Next(0, 150);
                var read = await ReadAllAsync(log, from, maxBytes: 1024 + random.Next(0, 4096));
                Assert.Equal(expected.Skip((int)from), read.Select(r => r.Payload));
                Assert.Equal(Enumerable.Range((int)from, 150 - (int)from).Select(i => (long)i), read.Select(r => r.Offset));
            }
        })).ToArray();
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromMinutes(3));

        Assert.True(cache.Evictions > 0);
        // Idle again: any handle above the cap was only kept while in use, and the next open trims it.
        await ReadAllAsync(log, 0);
        Assert.True(cache.OpenHandles <= 2 + 8, $"{cache.OpenHandles} cached handles");
        if (OperatingSystem.IsLinux()) Assert.Equal(cache.OpenHandles + 1, OpenSegmentFiles(dir.Path));
    }

    [Fact]
    public async Task Retention_DeletesSegmentsWhoseHandlesAreCachedOrClosed_AndLeavesNoHandleBehind()
    {
        using var dir = new TempDirectory();
        var cache = new SegmentHandleCache(3);
        await using var log = await ManySegmentsAsync(dir.Path, cache, 120);
        await ReadAllAsync(log, 0); // the last few sealed segments have cached handles, the earlier ones closed ones
        int segments = log.SegmentCount;
        log.UpdateLimits(null, 6 * 4096, log.Options.MaxBatchBytes);

        int deleted = log.ApplyRetention();

        Assert.True(deleted >= segments - 8, $"{deleted} of {segments} deleted");
        Assert.Equal(log.SegmentCount, Directory.GetFiles(dir.Path, "*" + LogFileNames.LogSuffix).Length);
        var rest = await ReadAllAsync(log);
        Assert.Equal(Enumerable.Range((int)log.StartOffset, 120 - (int)log.StartOffset).Select(Payload), rest.Select(r => r.Payload));
        Assert.True(cache.OpenHandles <= log.SegmentCount - 1);
        if (OperatingSystem.IsLinux()) Assert.True(OpenSegmentFiles(dir.Path) <= log.SegmentCount, "a deleted segment's handle was left open");
    }

    [Fact]
    public async Task ASegmentDeletedWhileAReaderHoldsIt_StillReads_EvenIfItsHandleWasClosed()
    {
        using var dir = new TempDirectory();
        var cache = new SegmentHandleCache(1);
        var segment = LogSegment.Create(dir.Path, 0, 1_700_000_000_000);
        byte[] batch = Batch("kept for the reader");
        segment.Append([batch], batch.Length, 0, 1, 1_700_000_000_000, 4096);
        segment.Seal(cache);
        Assert.True(segment.TryCloseIdleHandle());
        Assert.False(segment.HandleIsOpen);

        Assert.True(segment.TryAcquire()); // a reader took it from the list before retention dropped it
        segment.Delete();
        Assert.False(File.Exists(segment.LogPath));

        var read = new byte[batch.Length];
        Assert.Equal(batch.Length, segment.Read(SegmentHeader.Size, read));
        Assert.Equal(batch, read);
        Assert.False(segment.TryCloseIdleHandle()); // pinned: an unlinked file could not be opened again
        segment.Release();
        Assert.False(segment.HandleIsOpen);
        Assert.Equal(0, cache.OpenHandles);
    }

    [Fact]
    public async Task TruncatingIntoASealedSegmentWithAClosedHandle_Works_AndAppendsContinueThere()
    {
        using var dir = new TempDirectory();
        var cache = new SegmentHandleCache(1);
        await using var log = await ManySegmentsAsync(dir.Path, cache, 60);
        await ReadAllAsync(log, 0);
        long cutAt = log.SegmentBaseOffsets[2] + 1; // inside the third segment, whose handle the cache has closed

        Assert.Equal(cutAt, log.TruncateTo(cutAt));
        for (int i = (int)cutAt; i < 70; i++) await log.AppendAsync(Batch(Payload(i)));

        Assert.Equal(Enumerable.Range(0, 70).Select(Payload), await ReadAllPayloadsAsync(log));
    }

    [Fact]
    public void Options_RejectANonPositiveCacheSize_AndTheDefaultFollowsTheProcessLimit()
    {
        var options = Options();
        options.SealedSegmentHandles = 0;
        Assert.Contains("SealedSegmentHandles", Assert.Throws<ArgumentException>(options.Validate).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SegmentHandleCache(0));
        Assert.InRange(SegmentHandleCache.DefaultCapacity(), 16, 4096);
        if (SegmentHandleCache.ProcessOpenFileLimit() is { } limit)
            Assert.Equal((int)Math.Clamp(limit / 4, 16, 4096), SegmentHandleCache.DefaultCapacity());
        Assert.False(new GranaryOptionsValidator().Validate(null, new GranaryOptions { DataDirectory = "/tmp/x", MaxOpenPartitionLogs = 0 }).Succeeded);
    }

    [Fact]
    public async Task PartitionLogManager_RefusesToOpenMoreLogsThanItsLimit_WithARetriableError_UntilOneCloses()
    {
        using var dir = new TempDirectory();
        var granary = Microsoft.Extensions.Options.Options.Create(new GranaryOptions { DataDirectory = dir.Path, MaxOpenPartitionLogs = 2 });
        await using var manager = new PartitionLogManager(granary, Microsoft.Extensions.Options.Options.Create(Options()), NullLoggerFactory.Instance, TimeProvider.System);
        var config = new TopicConfig { Partitions = 3 };
        Assert.Equal(2, manager.MaxOpenLogs);

        var first = await manager.OpenAsync("t", 0, config);
        var second = await manager.OpenAsync("t", 1, config);
        Assert.Same(first, await manager.OpenAsync("t", 0, config)); // sharing an open log is not another one
        long exhaustions = OpenFileExhaustion.Count;
        var refused = await Assert.ThrowsAsync<GranaryException>(() => manager.OpenAsync("t", 2, config));
        Assert.Equal(GranaryErrorCode.PartitionUnavailable, refused.Code);
        Assert.True(OpenFileExhaustion.Count > exhaustions); // the health check reports it

        await manager.CloseAsync(second);
        var third = await manager.OpenAsync("t", 2, config);
        await third.AppendAsync(Batch("x"));
        Assert.Equal(1, third.EndOffset);
    }
}
