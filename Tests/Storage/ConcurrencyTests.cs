using System.Collections.Concurrent;
using System.Diagnostics;
using Granary.Storage;
using static Granary.Tests.Storage.LogTestKit;

namespace Granary.Tests.Storage;

public sealed class ConcurrencyTests
{
    [Fact]
    public async Task Readers_WhileTheWriterAppendsAndRolls_SeeEveryRecordInOrder()
    {
        using var dir = new TempDirectory();
        await using var log = PartitionLog.Open(dir.Path, Options(FlushPolicy.None, segmentBytes: 16 * 1024));
        const int total = 3000;
        using var done = new CancellationTokenSource();

        var writer = Task.Run(async () =>
        {
            for (int i = 0; i < total; i += 3)
                await log.AppendAsync(Batch($"{i}", $"{i + 1}", $"{i + 2}"));
        });
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            long offset = 0;
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (offset < total)
            {
                Assert.True(DateTime.UtcNow < deadline, $"reader stuck at offset {offset}");
                using var result = await log.ReadAsync(offset, 2048);
                Assert.Equal(LogReadStatus.Ok, result.Status);
                foreach (var record in result.GetBatches().SelectMany(b => b))
                {
                    if (record.Offset < offset) continue;
                    Assert.Equal(offset, record.Offset);
                    Assert.Equal(offset.ToString(System.Globalization.CultureInfo.InvariantCulture), Encoding.UTF8.GetString(record.Payload.Span));
                    offset++;
                }
                if (result.BatchCount == 0) await Task.Yield();
            }
        })).ToList();

        await writer;
        await Task.WhenAll(readers);
        Assert.True(log.SegmentCount > 2);
    }

    [Fact]
    public async Task ConcurrentAppenders_UnderAlways_EveryAwaitedAppendIsThereAfterReopen()
    {
        using var dir = new TempDirectory();
        var confirmed = new ConcurrentDictionary<long, string>();
        await using (var log = PartitionLog.Open(dir.Path, Options(FlushPolicy.Always, segmentBytes: 64 * 1024)))
        {
            await Task.WhenAll(Enumerable.Range(0, 16).Select(appender => Task.Run(async () =>
            {
                for (int seq = 0; seq < 150; seq++)
                {
                    string payload = $"{appender}-{seq}";
                    var result = await log.AppendAsync(Batch(payload));
                    Assert.True(log.FlushedOffset > result.BaseOffset, "confirmed before the flush covered it");
                    Assert.True(confirmed.TryAdd(result.BaseOffset, payload), $"offset {result.BaseOffset} given twice");
                }
            })));
        }

        await using var reopened = PartitionLog.Open(dir.Path, Options(FlushPolicy.Always, segmentBytes: 64 * 1024));
        var stored = (await ReadAllAsync(reopened)).ToDictionary(r => r.Offset, r => r.Payload);
        Assert.Equal(16 * 150, stored.Count);
        foreach (var (offset, payload) in confirmed) Assert.Equal(payload, stored[offset]);
    }

    [Fact]
    public async Task TruncateTo_DuringAnInFlightFsync_NeverLeavesTheFlushedOffsetAboveTheEnd()
    {
        using var dir = new TempDirectory();
        await using var log = PartitionLog.Open(dir.Path, Options(FlushPolicy.None, segmentBytes: 1L << 30));
        var big = Batch(new string('x', 1 << 20));
        // 8 MiB of dirty pages make the fsync last milliseconds; a random wait lands the truncation before the flush
        // loop takes the work, during its fsync or after it. Each round hits the fsync about a third of the time.
        for (int round = 0; round < 30; round++)
        {
            for (int i = 0; i < 8; i++) await log.AppendAsync(big);
            var flush = log.FlushAsync().AsTask();
            var waited = Stopwatch.StartNew();
            double waitMs = Random.Shared.NextDouble() * 2;
            while (waited.Elapsed.TotalMilliseconds < waitMs) Thread.SpinWait(10);

            log.TruncateTo(0);

            try { await flush; }
            catch (LogWriteException e) { Assert.Equal(LogWriteFailure.Truncated, e.Failure); }
            // Above the end, the next writes up to it would count as flushed without an fsync.
            Assert.True(log.FlushedOffset <= log.EndOffset, $"round {round}: flushed offset {log.FlushedOffset} above the end {log.EndOffset}");
            long fsyncs = log.FlushCount;
            await log.AppendAsync(Batch("after"));
            await log.FlushAsync();
            Assert.True(log.FlushCount > fsyncs, $"round {round}: a write after the truncation was flushed without an fsync");
            log.TruncateTo(0);
        }
    }

    [Fact]
    public async Task DisposeAsync_RacingAppenders_EveryAppendSucceedsOrFailsAsClosed()
    {
        // A race, not a certainty: an append that leaves the lock just before the close still signals the flush loop.
        var unexpected = new ConcurrentBag<Exception>();
        for (int round = 0; round < 50 && unexpected.IsEmpty; round++)
        {
            using var dir = new TempDirectory();
            var log = PartitionLog.Open(dir.Path, Options());
            var appenders = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
            {
                while (true)
                {
                    try { await log.AppendAsync(Batch("x")); }
                    catch (LogWriteException e) when (e.Failure == LogWriteFailure.Closed) { return; }
                    catch (Exception e) { unexpected.Add(e); return; }
                }
            })).ToArray();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            long closeAt = Random.Shared.Next(1, 200);
            while (log.EndOffset < closeAt)
            {
                Assert.True(DateTime.UtcNow < deadline, $"round {round}: appenders stuck at offset {log.EndOffset}");
                await Task.Yield();
            }

            await log.DisposeAsync();

            await Task.WhenAll(appenders).WaitAsync(TimeSpan.FromSeconds(30));
        }
        Assert.Empty(unexpected);
    }
}
