using Granary.Storage;

namespace Granary.Tests.Storage;

/// <summary>
/// Issue 16, item 4: offsets a missing or damaged segment held are a reported gap (log, <see cref="PartitionLog.Gaps"/>,
/// the <see cref="PartitionLogOptions.GapReported"/> callback), reads that start in it fail naming where to continue,
/// and no offset is given out again.
/// </summary>
public sealed class SegmentGapTests
{
    [Fact]
    public async Task Open_MiddleSegmentMissing_ReportsTheGapAndReadsFailThenContinue()
    {
        using var dir = new TempDirectory();
        var written = await DamageKit.WriteLogAsync(dir.Path, DamageKit.SmallSegments());
        var bases = DamageKit.SegmentBases(dir.Path);
        Assert.True(bases.Length >= 4);
        File.Delete(LogFileNames.LogFile(dir.Path, bases[1]));

        var reported = new List<LogGap>();
        var options = DamageKit.SmallSegments();
        options.GapReported = reported.Add;
        await using var log = PartitionLog.Open(dir.Path, options);

        var gap = Assert.Single(log.Gaps);
        Assert.Equal((bases[1], bases[2]), (gap.StartOffset, gap.EndOffset));
        Assert.Equal([gap], reported);
        Assert.Equal(written.Count, log.EndOffset);
        var error = await Assert.ThrowsAsync<LogCorruptedException>(async () => await log.ReadAsync(bases[1], 1024));
        Assert.Equal(bases[2], error.ResumeOffset);

        var read = await DamageKit.ReadAcceptingLossAsync(log);
        Assert.Equal([(bases[1], bases[2])], read.Reported);
        Assert.Equal(written.Where(w => w.Key < bases[1] || w.Key >= bases[2]).OrderBy(w => w.Key), read.Records.OrderBy(r => r.Key));
        // A read that starts before the gap stops at it instead of jumping over it.
        using var before = await log.ReadAsync(bases[1] - 1, 1 << 20);
        Assert.Equal(bases[1], before.NextOffset);
    }

    [Fact]
    public async Task Open_LastSegmentMissing_ReportsTheGapAndNeverReusesItsOffsets()
    {
        using var dir = new TempDirectory();
        var written = await DamageKit.WriteLogAsync(dir.Path, DamageKit.SmallSegments());
        var bases = DamageKit.SegmentBases(dir.Path);
        File.Delete(LogFileNames.LogFile(dir.Path, bases[^1]));
        File.Delete(LogFileNames.OffsetIndexFile(dir.Path, bases[^1]));
        File.Delete(LogFileNames.TimeIndexFile(dir.Path, bases[^1]));

        await using var log = PartitionLog.Open(dir.Path, DamageKit.SmallSegments());

        var gap = Assert.Single(log.Gaps);
        Assert.Equal((bases[^1], (long)written.Count), (gap.StartOffset, gap.EndOffset));
        Assert.Equal(written.Count, log.EndOffset);
        var appended = await log.AppendAsync(LogTestKit.Batch("new"));
        Assert.Equal(written.Count, appended.BaseOffset);
    }

    [Fact]
    public async Task Open_FirstSegmentMissing_ReportsTheGapBelowTheNewStart()
    {
        using var dir = new TempDirectory();
        await DamageKit.WriteLogAsync(dir.Path, DamageKit.SmallSegments());
        var bases = DamageKit.SegmentBases(dir.Path);
        File.Delete(LogFileNames.LogFile(dir.Path, bases[0]));

        await using var log = PartitionLog.Open(dir.Path, DamageKit.SmallSegments());

        var gap = Assert.Single(log.Gaps);
        Assert.Equal((0L, bases[1]), (gap.StartOffset, gap.EndOffset));
        Assert.Equal(bases[1], log.StartOffset);
    }

    [Fact]
    public async Task Open_FirstSegmentMissing_IsReportedAtEveryOpenUntilRetentionPassesIt()
    {
        using var dir = new TempDirectory();
        var options = DamageKit.SmallSegments();
        await DamageKit.WriteLogAsync(dir.Path, options);
        var bases = DamageKit.SegmentBases(dir.Path);
        File.Delete(LogFileNames.LogFile(dir.Path, bases[0]));
        await using (var log = PartitionLog.Open(dir.Path, options)) Assert.Single(log.Gaps);

        options.RetentionBytes = 1;
        await using var reopened = PartitionLog.Open(dir.Path, options);
        Assert.Single(reopened.Gaps);
        Assert.True(reopened.ApplyRetention() > 0);
        Assert.Empty(reopened.Gaps);
        await reopened.DisposeAsync();
        await using var third = PartitionLog.Open(dir.Path, options);
        Assert.Empty(third.Gaps);
    }

    [Fact]
    public async Task TruncateTo_BelowAGap_TheRewrittenOffsetsAreReadable()
    {
        using var dir = new TempDirectory();
        await DamageKit.WriteLogAsync(dir.Path, DamageKit.SmallSegments());
        var bases = DamageKit.SegmentBases(dir.Path);
        File.Delete(LogFileNames.LogFile(dir.Path, bases[2]));
        await using var log = PartitionLog.Open(dir.Path, DamageKit.SmallSegments());
        Assert.Single(log.Gaps);

        log.TruncateTo(bases[1] + 1);
        while (log.EndOffset < bases[3]) await log.AppendAsync(LogTestKit.Batch("again"));

        Assert.Empty(log.Gaps);
        var read = await DamageKit.ReadAcceptingLossAsync(log);
        Assert.Empty(read.Reported);
    }

    [Fact]
    public async Task Open_RetentionDeletedTheFirstSegments_ReportsNoGap()
    {
        using var dir = new TempDirectory();
        var options = DamageKit.SmallSegments();
        await DamageKit.WriteLogAsync(dir.Path, options);
        options.RetentionBytes = 8000;
        await using (var log = PartitionLog.Open(dir.Path, options))
        {
            Assert.True(log.ApplyRetention() > 0);
        }

        await using var reopened = PartitionLog.Open(dir.Path, options);

        Assert.Empty(reopened.Gaps);
    }

    [Fact]
    public async Task Open_MiddleSegmentCutAtABatchBoundary_ReportsTheGap()
    {
        using var dir = new TempDirectory();
        var written = await DamageKit.WriteLogAsync(dir.Path, DamageKit.SmallSegments());
        var bases = DamageKit.SegmentBases(dir.Path);
        // Keep the header only: the file looks like a clean, empty segment.
        using (var stream = new FileStream(LogFileNames.LogFile(dir.Path, bases[1]), FileMode.Open)) stream.SetLength(SegmentHeader.Size);
        File.Delete(LogFileNames.OffsetIndexFile(dir.Path, bases[1]));
        File.Delete(LogFileNames.TimeIndexFile(dir.Path, bases[1]));

        await using var log = PartitionLog.Open(dir.Path, DamageKit.SmallSegments());

        var gap = Assert.Single(log.Gaps);
        Assert.Equal((bases[1], bases[2]), (gap.StartOffset, gap.EndOffset));
        var read = await DamageKit.ReadAcceptingLossAsync(log);
        Assert.Equal(written.Count - (bases[2] - bases[1]), read.Records.Count);
    }

    [Fact]
    public async Task Open_MiddleSegmentCorruptInside_ReportsTheLossAndServesEveryOtherRecord()
    {
        using var dir = new TempDirectory();
        var written = await DamageKit.WriteLogAsync(dir.Path, DamageKit.SmallSegments());
        var bases = DamageKit.SegmentBases(dir.Path);
        string file = LogFileNames.LogFile(dir.Path, bases[1]);
        var bytes = File.ReadAllBytes(file);
        bytes[bytes.Length / 2] ^= 0x5A; // inside a payload: only the CRC notices
        File.WriteAllBytes(file, bytes);

        await using var log = PartitionLog.Open(dir.Path, DamageKit.SmallSegments());
        var read = await DamageKit.ReadAcceptingLossAsync(log);

        Assert.NotEmpty(read.Reported);
        Assert.NotEmpty(log.Gaps); // found by the read (sealed segments are trusted at open), then listed
        foreach (var (offset, payload) in written)
        {
            if (read.Records.TryGetValue(offset, out var served)) Assert.Equal(payload, served);
            else Assert.Contains(read.Reported, r => offset >= r.From && offset < r.To);
        }
        Assert.True(read.Records.Count >= written.Count - 20, "only the damaged batch and those up to the next index entry are lost");
    }
}
