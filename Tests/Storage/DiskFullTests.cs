using Granary.Storage;
using static Granary.Tests.Storage.LogTestKit;

namespace Granary.Tests.Storage;

public sealed class DiskFullTests
{
    [Fact]
    public async Task Append_OnAFullDisk_FailsTypedRefusesFurtherWritesAndKeepsConfirmedData()
    {
        using var disk = TmpfsMount.MountOrSkip(sizeKiB: 1024);
        string ballast = Path.Combine(disk.Path, "ballast");
        File.WriteAllBytes(ballast, new byte[256 * 1024]);
        string logDir = Path.Combine(disk.Path, "orders-0");
        var options = Options(segmentBytes: 192 * 1024);
        var confirmed = new List<string>();

        LogWriteException? failure = null;
        var log = PartitionLog.Open(logDir, options);
        try
        {
            for (int i = 0; i < 1000 && failure is null; i++)
            {
                string payload = $"{i}:{new string('d', 8000)}";
                try
                {
                    await log.AppendAsync(Batch(payload));
                    confirmed.Add(payload);
                }
                catch (LogWriteException e)
                {
                    failure = e;
                }
            }

            Assert.NotNull(failure);
            Assert.True(failure.IsDiskFull, failure.ToString());
            Assert.NotEmpty(confirmed);
            // Refused until reopened, even a write that would fit; confirmed data stays readable.
            var again = await Assert.ThrowsAsync<LogWriteException>(async () => await log.AppendAsync(Batch("tiny")));
            Assert.Equal(LogWriteFailure.DiskFull, again.Failure);
            await Assert.ThrowsAsync<LogWriteException>(async () => await log.FlushAsync());
            Assert.Equal(confirmed, await ReadAllPayloadsAsync(log));
        }
        finally
        {
            await log.DisposeAsync();
        }

        File.Delete(ballast);
        await using var reopened = PartitionLog.Open(logDir, options);
        Assert.Equal(confirmed, await ReadAllPayloadsAsync(reopened));
        await reopened.AppendAsync(Batch("after space was freed"));
        Assert.Equal([.. confirmed, "after space was freed"], await ReadAllPayloadsAsync(reopened));
    }

    [Fact]
    public async Task Open_OnAFullDiskWithTheIndexesOfASealedSegmentMissing_OpensForReadsAndRebuildsThemLater()
    {
        using var disk = TmpfsMount.MountOrSkip(sizeKiB: 256);
        string logDir = Path.Combine(disk.Path, "orders-0");
        var options = Options(segmentBytes: 4096);
        var payloads = Enumerable.Range(0, 5).Select(i => $"{i}:{new string('x', 3000)}").ToList();
        await using (var log = PartitionLog.Open(logDir, options))
        {
            foreach (var payload in payloads) await log.AppendAsync(Batch(payload));
            Assert.True(log.SegmentCount > 2);
        }
        string offsetIndex = LogFileNames.OffsetIndexFile(logDir, 0);
        File.Delete(offsetIndex);
        File.Delete(LogFileNames.TimeIndexFile(logDir, 0));
        string ballast = Path.Combine(disk.Path, "ballast");
        FillDisk(ballast);

        // Rebuilt in memory; saving it fails with ENOSPC.
        await using (var log = PartitionLog.Open(logDir, options))
        {
            Assert.Equal(payloads, await ReadAllPayloadsAsync(log));
        }
        Assert.False(File.Exists(offsetIndex));

        File.Delete(ballast);
        await using (var log = PartitionLog.Open(logDir, options))
        {
            Assert.Equal(payloads, await ReadAllPayloadsAsync(log));
        }
        Assert.True(File.Exists(offsetIndex));
    }

    private static void FillDisk(string ballast)
    {
        using var stream = new FileStream(ballast, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0); // nothing left to flush on dispose
        var chunk = new byte[4096];
        try
        {
            while (true)
            {
                stream.Write(chunk);
                stream.Flush();
            }
        }
        catch (IOException e) when (FileSync.IsDiskFull(e))
        {
        }
    }
}
