using Granary.Records;
using Granary.Storage;
using Microsoft.Extensions.Time.Testing;
using static Granary.Tests.Storage.LogTestKit;

namespace Granary.Tests.Storage;

public sealed class PartitionLogTests
{
    [Fact]
    public async Task Append_ReturnsConsecutiveOffsets_AndReadsBackInOrder()
    {
        using var dir = new TempDirectory();
        await using var log = PartitionLog.Open(dir.Path, Options());

        var first = await log.AppendAsync(Batch("a", "b", "c"));
        var second = await log.AppendAsync(Batch("d"));

        Assert.Equal(new LogAppendResult(0, 3), first);
        Assert.Equal(new LogAppendResult(3, 1), second);
        Assert.Equal(4, log.EndOffset);
        Assert.Equal(4, log.FlushedOffset);
        Assert.Equal([(0L, "a"), (1L, "b"), (2L, "c"), (3L, "d")], await ReadAllAsync(log));
    }

    [Fact]
    public async Task ALoweredBatchLimit_RefusesLargerNewAppends_ButNotCopiesOfBatchesAnotherReplicaAccepted()
    {
        using var dir = new TempDirectory();
        await using var log = PartitionLog.Open(dir.Path, Options());
        var large = Batch(new string('x', 8000));
        log.UpdateLimits(null, null, maxBatchBytes: 1024);

        Assert.Throws<ArgumentException>(() => log.AppendAsync(large).AsTask().GetAwaiter().GetResult());
        // A follower copying the leader's older batches must take them, or it never catches up.
        Assert.Equal(new LogAppendResult(0, 1), await log.AppendCopyAsync(large));
        Assert.Equal([(0L, new string('x', 8000))], await ReadAllAsync(log));
        // Not bounded by the segment size (issue 16, item 9): a copy larger than a segment gets one of its own.
        Assert.Equal(new LogAppendResult(1, 1), await log.AppendCopyAsync(Batch(new string('y', 2 << 20))));
        Assert.Equal(2, log.SegmentCount);
    }

    [Fact]
    public async Task Read_OffsetInsideABatch_ReturnsTheWholeStoredBatchUnchanged()
    {
        using var dir = new TempDirectory();
        await using var log = PartitionLog.Open(dir.Path, Options());
        var encoded = Batch("a", "b", "c");
        await log.AppendAsync(encoded);

        using var result = await log.ReadAsync(1, 1024);

        var batch = Assert.Single(result.GetBatches());
        Assert.Equal(0, batch.BaseOffset);
        Assert.Equal(3, result.NextOffset);
        // Byte for byte what was appended, except the base offset the log stamped (0 here as well).
        Assert.True(batch.Memory.Span.SequenceEqual(encoded));
    }

    [Fact]
    public async Task Read_ByteLimit_ReturnsAtLeastOneBatchAndStopsAtTheLimit()
    {
        using var dir = new TempDirectory();
        await using var log = PartitionLog.Open(dir.Path, Options());
        var big = new string('x', 5000);
        await log.AppendAsync(Batch(big));
        for (int i = 0; i < 10; i++) await log.AppendAsync(Batch($"small-{i}"));

        using (var oversized = await log.ReadAsync(0, 100))
        {
            Assert.Equal(1, oversized.BatchCount);
            Assert.Equal(1, oversized.NextOffset);
        }
        using var limited = await log.ReadAsync(1, 200);
        Assert.InRange(limited.Batches.Length, 1, 200);
        Assert.True(limited.BatchCount is > 0 and < 10);
    }

    [Fact]
    public async Task Read_BatchLargerThanTheReadWindowAfterASmallOne_IsReturnedWhole()
    {
        using var dir = new TempDirectory();
        await using var log = PartitionLog.Open(dir.Path, Options());
        string large = new('L', 100_000);
        await log.AppendAsync(Batch("small"));
        await log.AppendAsync(Batch(large));

        // The window starts at the index entry before "small", so the large batch needs a refill to be read.
        using var read = await log.ReadAsync(1, 1024);

        Assert.Equal(large, Encoding.UTF8.GetString(read.GetBatches().Single().Single().Payload.Span));
    }

    [Fact]
    public async Task Read_OutsideTheLog_ReportsOutOfRangeAndRejectsBadArguments()
    {
        using var dir = new TempDirectory();
        await using var log = PartitionLog.Open(dir.Path, Options());
        await log.AppendAsync(Batch("a", "b"));

        using (var atEnd = await log.ReadAsync(2, 1024))
        {
            Assert.Equal(LogReadStatus.Ok, atEnd.Status);
            Assert.Equal(0, atEnd.BatchCount);
            Assert.Equal(2, atEnd.NextOffset);
        }
        using (var pastEnd = await log.ReadAsync(3, 1024))
        {
            Assert.Equal(LogReadStatus.OffsetOutOfRange, pastEnd.Status);
            Assert.Equal(2, pastEnd.LogEndOffset);
        }
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await log.ReadAsync(-1, 1024));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await log.ReadAsync(0, 0));
    }

    [Fact]
    public async Task Read_MaxOffset_ReturnsOnlyBatchesBelowIt()
    {
        using var dir = new TempDirectory();
        await using var log = PartitionLog.Open(dir.Path, Options());
        await log.AppendAsync(Batch("a", "b"));
        await log.AppendAsync(Batch("c"));

        using var result = await log.ReadAsync(0, 1024, maxOffset: 2);

        Assert.Equal(1, result.BatchCount);
        Assert.Equal(2, result.NextOffset);
    }

    [Fact]
    public async Task Append_InvalidBatch_IsRejectedAndTheLogKeepsWorking()
    {
        using var dir = new TempDirectory();
        var options = Options();
        options.MaxBatchBytes = 4096;
        await using var log = PartitionLog.Open(dir.Path, options);
        await log.AppendAsync(Batch("before"));

        var crcBroken = Batch("x");
        crcBroken[^1] ^= 1;
        await Assert.ThrowsAsync<ArgumentException>(async () => await log.AppendAsync(crcBroken));
        await Assert.ThrowsAsync<ArgumentException>(async () => await log.AppendAsync(new byte[] { 1, 2, 3 }));
        await Assert.ThrowsAsync<ArgumentException>(async () => await log.AppendAsync(Batch(new string('y', 5000))));
        await log.AppendAsync(Batch("after"));

        Assert.Equal(["before", "after"], await ReadAllPayloadsAsync(log));
    }

    [Fact]
    public async Task Append_HeaderMaxTimestampBelowItsRecords_IsRejectedSoLookupsDoNotSkipThem()
    {
        using var dir = new TempDirectory();
        const long t0 = 1_700_000_000_000;
        await using var log = PartitionLog.Open(dir.Path, Options());
        await log.AppendAsync(Batch(t0 - 1000, "older"));
        var lying = PatchAndRecrc(Batch(t0, "at t0"), b => System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(30), 0));

        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await log.AppendAsync(lying));

        Assert.Contains("max timestamp", error.Message);
        await log.AppendAsync(Batch(t0, "at t0"));
        await log.AppendAsync(Batch(t0 + 1000, "newer"));
        Assert.Equal(1, await log.FindOffsetByTimestampAsync(t0));
    }

    [Fact]
    public async Task Open_CreatingTheTopicAndPartitionDirectories_FsyncsTheParentOfEach()
    {
        using var root = new TempDirectory();
        string topic = Path.Combine(root.Path, "orders");
        string partition = Path.Combine(topic, "0");
        var fsynced = await SyscallTrace.FsyncedPathsOfChildAsync(OpenLogChild.Command, partition);

        // The new names live in their parents: "orders" in the root, "0" in "orders".
        Assert.Contains(root.Path, fsynced);
        Assert.Contains(topic, fsynced);
        Assert.Contains(partition, fsynced);
    }

    [Fact]
    public async Task Reopen_AfterClose_KeepsEveryRecordAndContinuesOffsets()
    {
        using var dir = new TempDirectory();
        await using (var log = PartitionLog.Open(dir.Path, Options(segmentBytes: 8192)))
        {
            for (int i = 0; i < 200; i++) await log.AppendAsync(Batch($"record-{i}"));
        }

        await using var reopened = PartitionLog.Open(dir.Path, Options(segmentBytes: 8192));
        Assert.Equal(200, reopened.EndOffset);
        Assert.Equal(200, (await reopened.AppendAsync(Batch("next"))).BaseOffset);
        Assert.Equal([.. Enumerable.Range(0, 200).Select(i => $"record-{i}"), "next"], await ReadAllPayloadsAsync(reopened));
    }

    [Fact]
    public async Task SegmentRoll_OnSize_NamesSegmentsByBaseOffsetAndReadsAcrossThem()
    {
        using var dir = new TempDirectory();
        await using var log = PartitionLog.Open(dir.Path, Options(segmentBytes: 4096));
        var payload = new string('p', 300);
        for (int i = 0; i < 60; i++) await log.AppendAsync(Batch($"{i}:{payload}"));

        Assert.True(log.SegmentCount > 3);
        var files = Directory.GetFiles(dir.Path, "*.log").Select(Path.GetFileName).Order().ToList();
        Assert.Equal(log.SegmentBaseOffsets.Select(b => b.ToString("D20") + ".log"), files);
        Assert.All(files, f => Assert.Equal(24, f!.Length));
        Assert.All(Directory.GetFiles(dir.Path, "*.log"), f => Assert.True(new FileInfo(f).Length <= 4096));
        var all = await ReadAllAsync(log, maxBytes: 700);
        Assert.Equal(Enumerable.Range(0, 60).Select(i => (long)i), all.Select(r => r.Offset));
        Assert.Equal(Enumerable.Range(0, 60).Select(i => $"{i}:{payload}"), all.Select(r => r.Payload));
    }

    [Fact]
    public async Task SegmentRoll_OnAge_StartsANewSegment()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        var options = Options();
        options.SegmentMaxAge = TimeSpan.FromHours(1);
        await using var log = PartitionLog.Open(dir.Path, options, timeProvider: time);
        await log.AppendAsync(Batch("old"));

        time.Advance(TimeSpan.FromMinutes(59));
        await log.AppendAsync(Batch("same segment"));
        Assert.Equal(1, log.SegmentCount);

        time.Advance(TimeSpan.FromMinutes(2));
        await log.AppendAsync(Batch("new segment"));
        Assert.Equal([0L, 2L], log.SegmentBaseOffsets);
    }

    [Fact]
    public async Task FindOffsetByTimestamp_AcrossSegments_ReturnsFirstRecordAtOrAfter()
    {
        using var dir = new TempDirectory();
        await using var log = PartitionLog.Open(dir.Path, Options(segmentBytes: 4096, indexIntervalBytes: 128));
        const long t0 = 1_700_000_000_000;
        // Offset i has timestamp t0 + 10 * i, five records a batch.
        for (int i = 0; i < 400; i += 5)
            await log.AppendAsync(RecordBatchBuilder.Encode(Enumerable.Range(i, 5).Select(n => new LogRecord(Encoding.UTF8.GetBytes($"{n}:{new string('t', 40)}")) { TimestampMs = t0 + 10 * n })));
        Assert.True(log.SegmentCount > 2);

        Assert.Equal(0, await log.FindOffsetByTimestampAsync(0));
        Assert.Equal(0, await log.FindOffsetByTimestampAsync(t0));
        Assert.Equal(123, await log.FindOffsetByTimestampAsync(t0 + 1230));
        Assert.Equal(124, await log.FindOffsetByTimestampAsync(t0 + 1231));
        Assert.Equal(399, await log.FindOffsetByTimestampAsync(t0 + 3990));
        Assert.Equal(400, await log.FindOffsetByTimestampAsync(t0 + 3991));
        for (int n = 0; n < 400; n += 37) Assert.Equal(n, await log.FindOffsetByTimestampAsync(t0 + 10 * n - 5));
    }

    [Fact]
    public async Task Retention_BySize_DeletesOldestSegmentsAndMovesTheStart()
    {
        using var dir = new TempDirectory();
        var options = Options(segmentBytes: 4096);
        options.RetentionBytes = 10_000;
        await using var log = PartitionLog.Open(dir.Path, options);
        for (int i = 0; i < 100; i++) await log.AppendAsync(Batch($"{i}:{new string('r', 200)}"));
        int before = log.SegmentCount;

        int deleted = log.ApplyRetention();

        Assert.True(deleted > 0);
        Assert.Equal(before - deleted, log.SegmentCount);
        Assert.True(log.SizeInBytes <= 10_000);
        Assert.True(log.StartOffset > 0);
        Assert.Equal(log.SegmentCount, Directory.GetFiles(dir.Path, "*.log").Length);
        using (var gone = await log.ReadAsync(0, 1024)) Assert.Equal(LogReadStatus.OffsetOutOfRange, gone.Status);
        var kept = await ReadAllAsync(log);
        Assert.Equal(Enumerable.Range((int)log.StartOffset, 100 - (int)log.StartOffset).Select(i => (long)i), kept.Select(r => r.Offset));
        Assert.Equal(0, log.ApplyRetention());
    }

    [Fact]
    public async Task Retention_ByAge_DeletesExpiredSealedSegmentsOnly()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        var options = Options(segmentBytes: 4096);
        options.RetentionTime = TimeSpan.FromHours(1);
        await using var log = PartitionLog.Open(dir.Path, options, timeProvider: time);
        long now() => time.GetUtcNow().ToUnixTimeMilliseconds();
        for (int i = 0; i < 30; i++) await log.AppendAsync(Batch(now(), $"old-{i}:{new string('o', 300)}"));
        time.Advance(TimeSpan.FromMinutes(90));
        for (int i = 0; i < 5; i++) await log.AppendAsync(Batch(now(), $"new-{i}:{new string('n', 300)}"));
        long firstNew = log.EndOffset - 5;

        log.ApplyRetention();

        Assert.True(log.StartOffset > 0 && log.StartOffset <= firstNew);
        var remaining = await ReadAllPayloadsAsync(log);
        Assert.All(remaining.Take((int)(firstNew - log.StartOffset)), p => Assert.StartsWith("old-", p));
        Assert.Equal(5, remaining.Count(p => p.StartsWith("new-", StringComparison.Ordinal)));
        // The segment that holds the newest records is never deleted, however old.
        time.Advance(TimeSpan.FromDays(30));
        log.ApplyRetention();
        Assert.Equal(1, log.SegmentCount);
        Assert.Contains("new-4", (await ReadAllPayloadsAsync(log)).Last());
    }

    [Fact]
    public async Task TruncateTo_RemovesRecordsFromOffsetAndSurvivesReopen()
    {
        using var dir = new TempDirectory();
        var options = Options(segmentBytes: 4096);
        await using (var log = PartitionLog.Open(dir.Path, options))
        {
            for (int i = 0; i < 50; i += 2) await log.AppendAsync(Batch($"{i}:{new string('z', 200)}", $"{i + 1}:{new string('z', 200)}"));
            Assert.True(log.SegmentCount > 2);

            Assert.Equal(30, log.TruncateTo(30));          // a batch boundary inside a middle segment
            Assert.Equal(20, log.TruncateTo(21));          // inside a batch: the whole batch goes
            Assert.Equal(20, log.TruncateTo(25));          // beyond the end: nothing to do
            Assert.Equal(20, log.EndOffset);
            Assert.Equal(20, (await log.AppendAsync(Batch("after-truncate"))).BaseOffset);
        }

        await using var reopened = PartitionLog.Open(dir.Path, options);
        var all = await ReadAllAsync(reopened);
        Assert.Equal(21, all.Count);
        Assert.Equal("after-truncate", all[^1].Payload);
        Assert.Equal(Enumerable.Range(0, 21).Select(i => (long)i), all.Select(r => r.Offset));

        Assert.Equal(0, reopened.TruncateTo(0));
        Assert.Equal(1, reopened.SegmentCount);
        Assert.Empty(await ReadAllAsync(reopened));
    }

    [Theory]
    [InlineData("zeroed")]
    [InlineData("negative length")]
    public async Task TruncateTo_IntoADamagedTailKeptByRecovery_CutsAtTheDamage(string damage)
    {
        using var dir = new TempDirectory();
        long damagedStart, damagedEnd;
        await using (var log = PartitionLog.Open(dir.Path, Options()))
        {
            await log.AppendAsync(Batch("a", "b"));
            damagedStart = new FileInfo(dir.SegmentFile(0)).Length;
            await log.AppendAsync(Batch("c"));
            damagedEnd = new FileInfo(dir.SegmentFile(0)).Length;
        }
        var bytes = File.ReadAllBytes(dir.SegmentFile(0));
        if (damage == "zeroed")
        {
            Array.Clear(bytes, (int)damagedStart, (int)(damagedEnd - damagedStart));
        }
        else
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan((int)damagedStart), 0);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan((int)damagedStart + 8), -12); // a batch of 0 bytes
        }
        File.WriteAllBytes(dir.SegmentFile(0), bytes);
        var reopened = PartitionLog.Open(dir.Path, Options());
        Assert.Equal(3, reopened.EndOffset); // the damaged tail lies in confirmed data: kept and reported

        // A walk that does not stop at the damage never returns and keeps the write lock, so closing the log would
        // hang the test too: on a timeout the log is left open.
        long end = await Task.Run(() => reopened.TruncateTo(2)).WaitAsync(TimeSpan.FromSeconds(30));
        await using var _ = reopened;

        Assert.Equal(2, end);
        Assert.Equal(damagedStart, new FileInfo(dir.SegmentFile(0)).Length);
        Assert.Equal(2, (await reopened.AppendAsync(Batch("c2"))).BaseOffset);
        Assert.Equal(["a", "b", "c2"], await ReadAllPayloadsAsync(reopened));
    }

    [Fact]
    public async Task TruncateTo_KeptBatchesAfterTheLastTimeIndexEntry_KeepTheirMaxTimestamp()
    {
        using var dir = new TempDirectory();
        const long t0 = 1_700_000_000_000;
        var options = Options(indexIntervalBytes: 4096); // the time index holds only the first batch
        await using (var log = PartitionLog.Open(dir.Path, options))
        {
            await log.AppendAsync(Batch(t0, "a"));
            await log.AppendAsync(Batch(t0 + 5000, "b"));
            await log.AppendAsync(Batch(t0 + 6000, "c"));

            Assert.Equal(2, log.TruncateTo(2));

            Assert.Equal(1, await log.FindOffsetByTimestampAsync(t0 + 4000));
            Assert.Equal(2, await log.FindOffsetByTimestampAsync(t0 + 5001));
        }
        await using var reopened = PartitionLog.Open(dir.Path, options);
        Assert.Equal(1, await reopened.FindOffsetByTimestampAsync(t0 + 4000));
    }

    [Fact]
    public async Task TruncateTo_FailingToDeleteASegment_ReadsOfItsRangeStillComplete()
    {
        using var dir = new TempDirectory();
        var log = PartitionLog.Open(dir.Path, Options(segmentBytes: 4096));
        await using var _ = log;
        for (int i = 0; i < 40; i++) await log.AppendAsync(Batch($"{i}:{new string('s', 300)}"));
        var bases = log.SegmentBaseOffsets;
        Assert.True(bases.Count >= 3);
        // Deleting the second newest segment fails (after the newest one was deleted): its time index is a directory.
        string timeIndex = LogFileNames.TimeIndexFile(dir.Path, bases[^2]);
        File.Delete(timeIndex);
        Directory.CreateDirectory(timeIndex);

        Assert.IsType<UnauthorizedAccessException>(Assert.Throws<LogWriteException>(() => log.TruncateTo(bases[^2] - 1)).InnerException);

        // A read that retries on a segment it cannot acquire would spin until cancelled.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var read = await log.ReadAsync(bases[^1], 1024, cancellationToken: deadline.Token);
        Assert.Equal(0, read.BatchCount);
    }

    [Fact]
    public async Task ReadAndFindOffsetByTimestamp_AfterDispose_ThrowObjectDisposed()
    {
        using var dir = new TempDirectory();
        var log = PartitionLog.Open(dir.Path, Options());
        await log.AppendAsync(Batch("a"));
        await log.DisposeAsync();

        // Fails instead of hanging if a read retries forever on the released segments.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await log.ReadAsync(0, 1024, cancellationToken: deadline.Token));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await log.FindOffsetByTimestampAsync(0, deadline.Token));
    }

    [Fact]
    public async Task TruncateTo_WithAFlushPending_FailsItAsTruncatedAndStaysWritable()
    {
        using var dir = new TempDirectory();
        // Interval flushes wait for the fake clock, so the flush is certainly still pending at the truncation.
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        await using var log = PartitionLog.Open(dir.Path, Options(FlushPolicy.Interval), timeProvider: time);
        await log.AppendAsync(Batch("a"));
        await log.AppendAsync(Batch("b"));
        var flush = log.FlushAsync().AsTask();

        Assert.Equal(1, log.TruncateTo(1));

        var error = await Assert.ThrowsAsync<LogWriteException>(() => flush);
        Assert.Equal(LogWriteFailure.Truncated, error.Failure);
        Assert.Equal(1, (await log.AppendAsync(Batch("c"))).BaseOffset);
        Assert.Equal(["a", "c"], await ReadAllPayloadsAsync(log));
    }

    [Fact]
    public async Task Append_CheckpointWriteDeniedInTheFlushLoop_FailsTypedInsteadOfHanging()
    {
        using var dir = new TempDirectory();
        var options = Options();
        options.CheckpointInterval = TimeSpan.Zero; // a checkpoint after every fsync
        await using var log = PartitionLog.Open(dir.Path, options);
        // Opening the checkpoint's temp file throws UnauthorizedAccessException (not an IOException): it is a directory.
        Directory.CreateDirectory(LogFileNames.CheckpointFile(dir.Path) + LogFileNames.TempSuffix);

        var error = await Assert.ThrowsAsync<LogWriteException>(() => log.AppendAsync(Batch("a")).AsTask().WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(LogWriteFailure.IoError, error.Failure);
        Assert.IsType<UnauthorizedAccessException>(error.InnerException);
        Assert.Same(error, await Assert.ThrowsAsync<LogWriteException>(async () => await log.AppendAsync(Batch("b"))));
    }

    [Theory]
    [InlineData(FlushPolicy.Interval)]
    [InlineData(FlushPolicy.None)]
    public async Task FlushPolicies_OtherThanAlways_ConfirmBeforeFsyncAndFlushOnDemand(FlushPolicy policy)
    {
        using var dir = new TempDirectory();
        var options = Options(policy);
        options.FlushInterval = TimeSpan.FromMilliseconds(50);
        await using var log = PartitionLog.Open(dir.Path, options);

        await log.AppendAsync(Batch("a"));
        await log.FlushAsync();

        Assert.Equal(1, log.FlushedOffset);
        if (policy == FlushPolicy.Interval)
        {
            await log.AppendAsync(Batch("b"));
            await Eventually.UntilAsync(() => log.FlushedOffset == 2);
        }
    }

    [Fact]
    public async Task Closed_LogRefusesAppendsWithATypedError()
    {
        using var dir = new TempDirectory();
        var log = PartitionLog.Open(dir.Path, Options());
        await log.DisposeAsync();

        var error = await Assert.ThrowsAsync<LogWriteException>(async () => await log.AppendAsync(Batch("late")));
        Assert.Equal(LogWriteFailure.Closed, error.Failure);
    }

    [Fact]
    public void Options_OutOfRange_AreRejectedNamingTheSetting()
    {
        Assert.Contains("SegmentBytes", Assert.Throws<ArgumentException>(() => new PartitionLogOptions { SegmentBytes = 10 }.Validate()).Message);
        Assert.Contains("IndexIntervalBytes", Assert.Throws<ArgumentException>(() => new PartitionLogOptions { IndexIntervalBytes = 0 }.Validate()).Message);
        Assert.Contains("MaxBatchBytes", Assert.Throws<ArgumentException>(() => new PartitionLogOptions { MaxBatchBytes = 10 }.Validate()).Message);
        // A segment's size does not bound a batch (issue 16, item 9): a larger batch gets a segment of its own.
        Assert.Equal(16 << 20, new PartitionLogOptions { SegmentBytes = 8192 }.EffectiveMaxBatchBytes);
        Assert.Contains("RetentionTime", Assert.Throws<ArgumentException>(() => new PartitionLogOptions { RetentionTime = TimeSpan.Zero }.Validate()).Message);
    }
}
