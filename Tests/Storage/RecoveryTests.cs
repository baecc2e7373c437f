using Granary.Records;
using Granary.Storage;
using Microsoft.Extensions.Time.Testing;
using static Granary.Tests.Storage.LogTestKit;

namespace Granary.Tests.Storage;

public sealed class RecoveryTests
{
    [Fact]
    public async Task Recover_LastBatchCutAtEveryBytePosition_ReopensToLastWholeBatch()
    {
        using var source = new TempDirectory();
        var options = Options();
        // State A: two whole batches, cleanly closed. Keep its checkpoint and indexes: after a crash they are what
        // the disk holds while batch three is being written.
        await using (var log = PartitionLog.Open(source.Path, options))
        {
            await log.AppendAsync(Batch("one", "two"));
            await log.AppendAsync(Batch("three"));
        }
        long wholeLength = new FileInfo(source.SegmentFile(0)).Length;
        using var stateA = new TempDirectory();
        CopyDirectory(source.Path, stateA.Path);
        await using (var log = PartitionLog.Open(source.Path, options))
        {
            await log.AppendAsync(Batch("four", "five", new string('6', 100)));
        }
        var fullSegment = File.ReadAllBytes(source.SegmentFile(0));

        for (long cut = wholeLength; cut < fullSegment.Length; cut++)
        {
            using var dir = new TempDirectory();
            CopyDirectory(stateA.Path, dir.Path);
            File.WriteAllBytes(dir.SegmentFile(0), fullSegment[..(int)cut]);

            await using var reopened = PartitionLog.Open(dir.Path, options);

            Assert.Equal(3, reopened.EndOffset);
            Assert.Equal(["one", "two", "three"], await ReadAllPayloadsAsync(reopened));
            Assert.Equal(wholeLength, new FileInfo(dir.SegmentFile(0)).Length);
            Assert.Equal(3, (await reopened.AppendAsync(Batch("again"))).BaseOffset);
        }
    }

    [Theory]
    [InlineData(13)]
    [InlineData(5000)]
    public async Task Recover_GarbageAfterLastBatch_TruncatesToLastGoodBatch(int garbageBytes)
    {
        using var dir = new TempDirectory();
        await using (var log = PartitionLog.Open(dir.Path, Options()))
        {
            await log.AppendAsync(Batch("a", "b"));
        }
        var garbage = new byte[garbageBytes];
        new Random(garbageBytes).NextBytes(garbage);
        AppendBytes(dir.SegmentFile(0), garbage);

        await using var reopened = PartitionLog.Open(dir.Path, Options());

        Assert.Equal(2, reopened.EndOffset);
        Assert.Equal(["a", "b"], await ReadAllPayloadsAsync(reopened));
        await reopened.AppendAsync(Batch("c"));
        Assert.Equal(["a", "b", "c"], await ReadAllPayloadsAsync(reopened));
    }

    [Fact]
    public async Task Recover_FlippedBitInsideOlderBatch_IsReportedAndNeverReturnedAsData()
    {
        using var source = new TempDirectory();
        long damagedStart, damagedEnd;
        await using (var log = PartitionLog.Open(source.Path, Options()))
        {
            await log.AppendAsync(Batch("first", "batch"));
            damagedStart = new FileInfo(source.SegmentFile(0)).Length;
            await log.AppendAsync(Batch("second", "batch"));
            damagedEnd = new FileInfo(source.SegmentFile(0)).Length;
            await log.AppendAsync(Batch("third", "batch"));
        }
        var pristine = File.ReadAllBytes(source.SegmentFile(0));

        // Every byte of the middle batch (one bit each, all eight bit positions in turn), with and without a checkpoint (with one, recovery trusts the bytes and only
        // the read path can notice; without one, recovery verifies them).
        foreach (bool keepCheckpoint in new[] { true, false })
        {
            for (long position = damagedStart; position < damagedEnd; position++)
            {
                int bit = (int)(position % 8);
                {
                    using var dir = new TempDirectory();
                    CopyDirectory(source.Path, dir.Path);
                    if (!keepCheckpoint) File.Delete(LogFileNames.CheckpointFile(dir.Path));
                    var damaged = (byte[])pristine.Clone();
                    damaged[position] ^= (byte)(1 << bit);
                    File.WriteAllBytes(dir.SegmentFile(0), damaged);

                    await using var reopened = PartitionLog.Open(dir.Path, Options());

                    await AssertOnlyIntactRecordsAreReturnedAsync(reopened, position);
                }
            }
        }
    }

    private static async Task AssertOnlyIntactRecordsAreReturnedAsync(PartitionLog log, long damagedPosition)
    {
        var expected = new Dictionary<long, string> { [0] = "first", [1] = "batch", [2] = "second", [3] = "batch", [4] = "third", [5] = "batch" };
        bool reported = false;
        for (long offset = 0; offset < 6; offset++)
        {
            try
            {
                using var result = await log.ReadAsync(offset, 1 << 16);
                foreach (var record in result.GetBatches().SelectMany(b => b))
                {
                    Assert.True(expected.TryGetValue(record.Offset, out var payload), $"offset {record.Offset} was returned (bit flipped at {damagedPosition})");
                    Assert.Equal(payload, Encoding.UTF8.GetString(record.Payload.Span));
                }
            }
            catch (LogCorruptedException e)
            {
                reported = true;
                Assert.Contains(".log", e.File);
            }
        }
        Assert.True(reported, $"a bit flipped at byte {damagedPosition} was not reported");
        // The batches around the damage stay readable.
        using (var first = await log.ReadAsync(0, 1 << 16))
            Assert.Equal("first", Encoding.UTF8.GetString(first.GetBatches().First().First().Payload.Span));
    }

    [Theory]
    [InlineData(false)] // trusted through the saved indexes: the damage is found by reads only
    [InlineData(true)]  // verified against the checkpoint: a damaged tail, kept and reported
    public async Task Recover_DamagedLastBatchThenCleanCloseWithoutAppends_AppendsAfterTheNextOpenAreReadable(bool deleteIndexes)
    {
        using var dir = new TempDirectory();
        long damagedStart;
        await using (var log = PartitionLog.Open(dir.Path, Options()))
        {
            await log.AppendAsync(Batch("a", "b"));
            damagedStart = new FileInfo(dir.SegmentFile(0)).Length;
            await log.AppendAsync(Batch("c"));
        }
        var bytes = File.ReadAllBytes(dir.SegmentFile(0));
        bytes[damagedStart + 16] ^= 0xFF; // the last batch's magic
        File.WriteAllBytes(dir.SegmentFile(0), bytes);
        if (deleteIndexes)
        {
            File.Delete(LogFileNames.OffsetIndexFile(dir.Path, 0));
            File.Delete(LogFileNames.TimeIndexFile(dir.Path, 0));
        }
        await using (var log = PartitionLog.Open(dir.Path, Options()))
        {
            // A damaged tail found now is sealed at once, not at the first append: closing saves indexes that cover
            // it, and the next open would not find it again.
            Assert.Equal(deleteIndexes ? [0L, 3L] : [0L], log.SegmentBaseOffsets);
        }

        await using var reopened = PartitionLog.Open(dir.Path, Options());
        var appended = await reopened.AppendAsync(Batch("new"));

        Assert.Equal(3, appended.BaseOffset);
        using (var read = await reopened.ReadAsync(appended.BaseOffset, 1024))
            Assert.Equal("new", Encoding.UTF8.GetString(read.GetBatches().Single().Single().Payload.Span));
        using (var read = await reopened.ReadAsync(0, 1024))
            Assert.Equal(["a", "b"], read.GetBatches().Single().Select(r => Encoding.UTF8.GetString(r.Payload.Span)));
        await Assert.ThrowsAsync<LogCorruptedException>(async () => await reopened.ReadAsync(2, 1024));
    }

    [Fact]
    public async Task Recover_DamagedBatchWhosePayloadIsAnEncodedBatch_SkipsItByItsLengthAndNeverServesThePayload()
    {
        using var source = new TempDirectory();
        using var crashImage = new TempDirectory();
        var outer = RecordBatchBuilder.Encode([new LogRecord(Batch("forged"))]);
        await using (var log = PartitionLog.Open(source.Path, Options()))
        {
            await log.AppendAsync(outer);
            await log.AppendAsync(Batch("real-1"));
            CopyDirectory(source.Path, crashImage.Path); // no checkpoint covers the batches: recovery verifies them
        }
        var bytes = File.ReadAllBytes(crashImage.SegmentFile(0));
        bytes[SegmentHeader.Size + 25] ^= 1; // the outer batch's first timestamp: its CRC fails, its length is intact
        File.WriteAllBytes(crashImage.SegmentFile(0), bytes);

        await using var reopened = PartitionLog.Open(crashImage.Path, Options());

        Assert.Equal(2, reopened.EndOffset);
        await Assert.ThrowsAsync<LogCorruptedException>(async () => await reopened.ReadAsync(0, 1024));
        Assert.Equal([(1L, "real-1")], await ReadAllAsync(reopened, from: 1));
    }

    [Theory]
    [InlineData(false)] // nothing after the damage is known to be a batch start: cut as a torn tail
    [InlineData(true)]  // the checkpoint marks a batch start after the damage: reading resumes there
    public async Task Recover_DamagedLengthOfABatchWhosePayloadIsAnEncodedBatch_ResumesOnlyWhereTheCheckpointSays(bool checkpointAfterTheDamage)
    {
        using var source = new TempDirectory();
        using var crashImage = new TempDirectory();
        var outer = RecordBatchBuilder.Encode([new LogRecord(Batch("forged"))]);
        await using (var log = PartitionLog.Open(source.Path, Options()))
        {
            await log.AppendAsync(outer);
            await log.AppendAsync(Batch("real-1"));
            if (!checkpointAfterTheDamage) CopyDirectory(source.Path, crashImage.Path); // checkpoint: the empty segment
        }
        if (checkpointAfterTheDamage)
        {
            await using (var log = PartitionLog.Open(source.Path, Options())) // checkpoints the end of "real-1"
            {
                await log.AppendAsync(Batch("real-2"));
                CopyDirectory(source.Path, crashImage.Path);
            }
            // Without the indexes of the clean close, recovery verifies the whole segment.
            File.Delete(LogFileNames.OffsetIndexFile(crashImage.Path, 0));
            File.Delete(LogFileNames.TimeIndexFile(crashImage.Path, 0));
        }
        var bytes = File.ReadAllBytes(crashImage.SegmentFile(0));
        bytes[SegmentHeader.Size + RecordBatchCodec.LengthPosition + 2] ^= 0x80; // the outer length now runs past the file
        File.WriteAllBytes(crashImage.SegmentFile(0), bytes);

        await using var reopened = PartitionLog.Open(crashImage.Path, Options());

        if (checkpointAfterTheDamage)
        {
            Assert.Equal(3, reopened.EndOffset);
            await Assert.ThrowsAsync<LogCorruptedException>(async () => await reopened.ReadAsync(0, 1024));
            await Assert.ThrowsAsync<LogCorruptedException>(async () => await reopened.ReadAsync(1, 1024));
            Assert.Equal([(2L, "real-2")], await ReadAllAsync(reopened, from: 2));
        }
        else
        {
            Assert.Equal(0, reopened.EndOffset);
            Assert.Equal(SegmentHeader.Size, new FileInfo(crashImage.SegmentFile(0)).Length);
        }
    }

    [Fact]
    public async Task Recover_DeletedOrDamagedIndexes_AreRebuiltAndLookupsStayCorrect()
    {
        using var dir = new TempDirectory();
        var options = Options(segmentBytes: 4096, indexIntervalBytes: 64);
        const long t0 = 1_700_000_000_000;
        await using (var log = PartitionLog.Open(dir.Path, options))
        {
            for (int i = 0; i < 120; i++) await log.AppendAsync(Batch(t0 + i, $"{i}:{new string('i', 100)}"));
            Assert.True(log.SegmentCount > 3);
        }
        var indexes = Directory.GetFiles(dir.Path, "*.index").Concat(Directory.GetFiles(dir.Path, "*.timeindex")).Order().ToList();
        File.Delete(indexes[0]);                                               // missing
        File.WriteAllBytes(indexes[1], [1, 2, 3, 4, 5]);                        // garbage
        var flipped = File.ReadAllBytes(indexes[2]); flipped[3] ^= 0x10;        // one bit
        File.WriteAllBytes(indexes[2], flipped);
        var cut = File.ReadAllBytes(indexes[^1]);                               // cut short
        File.WriteAllBytes(indexes[^1], cut[..(cut.Length / 2)]);

        await using (var reopened = PartitionLog.Open(dir.Path, options))
        {
            Assert.Equal(120, reopened.EndOffset);
            for (int i = 0; i < 120; i += 7)
            {
                using var read = await reopened.ReadAsync(i, 1);
                Assert.Equal($"{i}:{new string('i', 100)}", Encoding.UTF8.GetString(read.GetBatches().Single().Single().Payload.Span));
                Assert.Equal(i, await reopened.FindOffsetByTimestampAsync(t0 + i));
            }
        }
        // Rebuilt indexes were written back: every index file is whole again.
        foreach (var index in indexes) Assert.True(File.Exists(index) && new FileInfo(index).Length >= 32, index);
    }

    [Fact]
    public async Task Recover_CrashAfterTruncateAndNewAppends_ReadsTheNewRecordsNotTheOldIndex()
    {
        using var dir = new TempDirectory();
        var options = Options();
        await using (var log = PartitionLog.Open(dir.Path, options))
        {
            for (int i = 0; i < 10; i++) await log.AppendAsync(Batch($"old-{i}:{new string('o', 50 + i)}"));
        }
        using var crashImage = new TempDirectory();
        await using (var log = PartitionLog.Open(dir.Path, options))
        {
            log.TruncateTo(5);
            for (int i = 5; i < 15; i++) await log.AppendAsync(Batch($"new-{i}:{new string('n', 10 + 3 * i)}"));
            // The files as a crash would leave them: no close, no index save, no final checkpoint.
            CopyDirectory(dir.Path, crashImage.Path);
        }

        await using var recovered = PartitionLog.Open(crashImage.Path, options);

        Assert.Equal(15, recovered.EndOffset);
        for (long offset = 0; offset < 15; offset++)
        {
            // One read per offset, so each starts from the index entry at or before it.
            using var read = await recovered.ReadAsync(offset, 1);
            string payload = Encoding.UTF8.GetString(read.GetBatches().Single().Single().Payload.Span);
            Assert.Equal(offset < 5 ? $"old-{offset}:{new string('o', 50 + (int)offset)}" : $"new-{offset}:{new string('n', 10 + 3 * (int)offset)}", payload);
        }
    }

    [Fact]
    public async Task Recover_MaxBatchBytesLoweredSinceABatchWasWritten_KeepsTheBatch()
    {
        using var source = new TempDirectory();
        using var crashImage = new TempDirectory();
        string large = new('b', 100_000);
        await using (var log = PartitionLog.Open(source.Path, Options()))
        {
            await log.AppendAsync(Batch("a"));
            await log.AppendAsync(Batch(large));
            // No close: the checkpoint does not cover the batches, so recovery verifies them.
            CopyDirectory(source.Path, crashImage.Path);
        }
        var smaller = Options();
        smaller.MaxBatchBytes = 64 * 1024;

        await using var reopened = PartitionLog.Open(crashImage.Path, smaller);

        Assert.Equal(2, reopened.EndOffset);
        Assert.Equal(["a", large], await ReadAllPayloadsAsync(reopened));
    }

    [Fact]
    public async Task Recover_TornTailAfterBatchesTheTimeIndexDoesNotCover_KeepsTheSegmentMaxTimestamp()
    {
        using var source = new TempDirectory();
        using var crashImage = new TempDirectory();
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        // One index entry per 4 KiB: the time index holds only the first batch's timestamp.
        var options = Options(segmentBytes: 4096, indexIntervalBytes: 4096);
        options.RetentionTime = TimeSpan.FromHours(1);
        await using (var log = PartitionLog.Open(source.Path, options, timeProvider: time))
        {
            await log.AppendAsync(Batch(now - (long)TimeSpan.FromHours(3).TotalMilliseconds, "old"));
            await log.AppendAsync(Batch(now - 60_000, "fresh"));
            CopyDirectory(source.Path, crashImage.Path);
        }
        AppendBytes(crashImage.SegmentFile(0), Batch(now, "torn")[..20]);

        // Right after the cut, and again after a clean close (the max must survive in the saved time index).
        for (int open = 0; open < 2; open++)
        {
            await using var reopened = PartitionLog.Open(crashImage.Path, options, timeProvider: time);
            Assert.Equal(2, reopened.EndOffset);
            Assert.Equal(1, await reopened.FindOffsetByTimestampAsync(now - 120_000));
        }
        await using (var reopened = PartitionLog.Open(crashImage.Path, options, timeProvider: time))
        {
            await reopened.AppendAsync(Batch(now, new string('x', 4000))); // seals the segment
            Assert.Equal(2, reopened.SegmentCount);

            Assert.Equal(0, reopened.ApplyRetention()); // it holds a record one minute old
        }
    }

    [Fact]
    public async Task Recover_MissingOrDamagedCheckpoint_VerifiesTheTailAndKeepsEverything()
    {
        using var dir = new TempDirectory();
        await using (var log = PartitionLog.Open(dir.Path, Options()))
        {
            for (int i = 0; i < 10; i++) await log.AppendAsync(Batch($"r{i}"));
        }
        File.WriteAllBytes(LogFileNames.CheckpointFile(dir.Path), [0xFF, 0xFF]);
        await using (var reopened = PartitionLog.Open(dir.Path, Options()))
            Assert.Equal(Enumerable.Range(0, 10).Select(i => $"r{i}"), await ReadAllPayloadsAsync(reopened));
        File.Delete(LogFileNames.CheckpointFile(dir.Path));
        await using (var reopened = PartitionLog.Open(dir.Path, Options()))
            Assert.Equal(10, reopened.EndOffset);
    }

    [Fact]
    public async Task Recover_DamagedSegmentHeader_KeepsTheBatches()
    {
        using var dir = new TempDirectory();
        await using (var log = PartitionLog.Open(dir.Path, Options()))
        {
            await log.AppendAsync(Batch("kept"));
        }
        using (var stream = new FileStream(dir.SegmentFile(0), FileMode.Open, FileAccess.Write)) stream.Write([0, 0, 0, 0]);

        await using var reopened = PartitionLog.Open(dir.Path, Options());

        Assert.Equal(["kept"], await ReadAllPayloadsAsync(reopened));
    }

    [Fact]
    public async Task Recover_SegmentFromANewerFormat_IsRefusedNotMisread()
    {
        using var dir = new TempDirectory();
        await using (var log = PartitionLog.Open(dir.Path, Options())) await log.AppendAsync(Batch("v1"));
        var bytes = File.ReadAllBytes(dir.SegmentFile(0));
        bytes[4] = 9; bytes[6] = 9; // format version and minimum compatible version
        var header = bytes.AsSpan(0, 32);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header[28..], Checksum.Crc32C(header[..28]));
        File.WriteAllBytes(dir.SegmentFile(0), bytes);

        var error = Assert.Throws<LogCorruptedException>(() => PartitionLog.Open(dir.Path, Options()));

        Assert.Contains("newer", error.Reason);
    }
}
