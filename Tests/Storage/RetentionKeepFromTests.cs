using Granary.Storage;
using Microsoft.Extensions.Time.Testing;
using static Granary.Tests.Storage.LogTestKit;

namespace Granary.Tests.Storage;

/// <summary><see cref="PartitionLog.ApplyRetention(long, long)"/>: retention that keeps what a reader still needs.</summary>
public sealed class RetentionKeepFromTests
{
    [Fact]
    public async Task BySize_NeverDeletesASegmentHoldingKeepFromOrLater_AndReportsHeldBack()
    {
        using var dir = new TempDirectory();
        await using var log = await SizeLimitedLogAsync(dir, retentionBytes: 10_000, records: 100);
        var bases = log.SegmentBaseOffsets;
        long keepFrom = bases[2] + 1; // inside the third segment

        var result = log.ApplyRetention(keepFrom);

        Assert.Equal(2, result.SegmentsDeleted);
        Assert.Equal(bases[2], result.RecordsDeleted);
        Assert.True(result.HeldBack);
        Assert.Equal(bases[2], log.StartOffset);
        Assert.True(log.SizeInBytes > 10_000);
        Assert.Equal(100 - (int)bases[2], (await ReadAllAsync(log)).Count);

        // Once the reader moves on, the rest goes as before.
        var after = log.ApplyRetention(log.EndOffset);
        Assert.False(after.HeldBack);
        Assert.True(after.SegmentsDeleted > 0);
        Assert.True(log.SizeInBytes <= 10_000);
    }

    [Fact]
    public async Task KeepFromAtASegmentBase_DeletesTheSegmentsBelowIt()
    {
        using var dir = new TempDirectory();
        await using var log = await SizeLimitedLogAsync(dir, retentionBytes: 1, records: 60);
        var bases = log.SegmentBaseOffsets;

        var result = log.ApplyRetention(bases[1]);

        Assert.Equal(new RetentionResult(1, bases[1], HeldBack: true), result);
        Assert.Equal(bases[1], log.StartOffset);
    }

    [Fact]
    public async Task ByAge_HeldBackOnlyWhenAnExpiredSegmentIsKept()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        var options = Options(segmentBytes: 4096);
        options.RetentionTime = TimeSpan.FromHours(1);
        await using var log = PartitionLog.Open(dir.Path, options, timeProvider: time);
        for (int i = 0; i < 30; i++) await log.AppendAsync(Batch(time.GetUtcNow().ToUnixTimeMilliseconds(), $"{i}:{new string('o', 300)}"));

        Assert.Equal(default, log.ApplyRetention(0)); // nothing expired yet: nothing held back either

        time.Advance(TimeSpan.FromMinutes(90));
        var held = log.ApplyRetention(0);
        Assert.Equal(new RetentionResult(0, 0, HeldBack: true), held);
        Assert.Equal(0, log.StartOffset);

        var freed = log.ApplyRetention(log.EndOffset);
        Assert.False(freed.HeldBack);
        Assert.Equal(log.StartOffset, freed.RecordsDeleted);
        Assert.Equal(1, log.SegmentCount);
    }

    [Fact]
    public async Task ExtraBytes_MakeRoomForTheNextAppend()
    {
        using var dir = new TempDirectory();
        var options = Options(segmentBytes: 4096);
        options.RetentionBytes = 12_000;
        await using var log = PartitionLog.Open(dir.Path, options);
        while (log.SizeInBytes < 11_500) await log.AppendAsync(Batch(new string('r', 200)));
        Assert.Equal(0, log.ApplyRetention(long.MaxValue).SegmentsDeleted);

        var result = log.ApplyRetention(long.MaxValue, extraBytes: 1_000);

        Assert.Equal(1, result.SegmentsDeleted);
        Assert.True(log.SizeInBytes + 1_000 <= 12_000);
    }

    /// <summary>A log of 4 KiB segments with a retention size, holding <paramref name="records"/> records of about 200 bytes.</summary>
    [Fact]
    public async Task RequestRoll_SealsTheActiveSegmentAtTheNextAppend_SoRetentionCanDeleteIt_ButNeverMakesAnEmptyOne()
    {
        using var dir = new TempDirectory();
        var options = Options(segmentBytes: 1 << 20);
        options.RetentionBytes = 1;
        await using var log = PartitionLog.Open(dir.Path, options);
        log.RequestRoll(); // empty active segment: nothing to seal
        await log.AppendAsync(Batch("a"));
        Assert.Equal(1, log.SegmentCount);

        log.RequestRoll();
        await log.AppendAsync(Batch("b"));

        Assert.Equal(2, log.SegmentCount);
        Assert.Equal(1, log.ApplyRetention(keepFromOffset: 1).SegmentsDeleted);
        Assert.Equal(1, log.StartOffset);
    }

    private static async Task<PartitionLog> SizeLimitedLogAsync(TempDirectory dir, long retentionBytes, int records)
    {
        var options = Options(segmentBytes: 4096);
        options.RetentionBytes = retentionBytes;
        var log = PartitionLog.Open(dir.Path, options);
        for (int i = 0; i < records; i++) await log.AppendAsync(Batch($"{i}:{new string('r', 200)}"));
        return log;
    }
}
