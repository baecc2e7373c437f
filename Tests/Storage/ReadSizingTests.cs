using System.Runtime.InteropServices;
using Granary.Storage;
using static Granary.Tests.Storage.LogTestKit;

namespace Granary.Tests.Storage;

/// <summary>
/// A read of a few records is sized by them, not by the byte limit (issue 18: a cursor fetch of ~1,000 records of ~130 B
/// rented a 2 MB array for the 1 MB byte limit, which the shared pool kept poorly, so most fetches allocated one).
/// </summary>
public sealed class ReadSizingTests
{
    private const int RecordsPerBatch = 50;

    [Fact]
    public async Task ReadOfFewSmallRecords_RentsAboutWhatTheyTake_AndStopsAfterThem()
    {
        using var dir = new TempDirectory();
        await using var log = PartitionLog.Open(dir.Path, Options(segmentBytes: 64 << 20, indexIntervalBytes: 4096));
        await AppendAsync(log, batches: 200, payloadBytes: 100); // 10,000 records of about 130 B stored

        using var read = await log.ReadAsync(2_000, 1 << 20, maxRecords: 1_000, maxOffset: long.MaxValue);

        Assert.Equal(2_000 + 1_000, read.NextOffset); // whole batches: 20 of 50 records
        Assert.True(MemoryMarshal.TryGetArray(read.Batches, out var segment));
        // 1,000 records of ~130 B (+ a quarter, + one index interval) round up to 256 KB; the byte limit alone rented 2 MB.
        Assert.InRange(segment.Array!.Length, 1, 256 * 1024);
        Assert.Equal(Enumerable.Range(2_000, 1_000).Select(i => (long)i), read.GetBatches().SelectMany(b => b).Select(r => r.Offset));
    }

    [Fact]
    public async Task ReadOfRecordsLargerThanTheSegmentMean_ReturnsFewerButNeverNone_AndReadingOnGetsEveryRecord()
    {
        using var dir = new TempDirectory();
        await using var log = PartitionLog.Open(dir.Path, Options(segmentBytes: 64 << 20, indexIntervalBytes: 4096));
        await AppendAsync(log, batches: 100, payloadBytes: 10);
        await AppendAsync(log, batches: 20, payloadBytes: 5_000); // far above the mean the read is sized by

        var offsets = new List<long>();
        long offset = 0;
        while (offset < log.EndOffset)
        {
            using var read = await log.ReadAsync(offset, 1 << 20, maxRecords: 300, maxOffset: long.MaxValue);
            Assert.True(read.BatchCount > 0, $"nothing read at {offset}");
            Assert.True(read.NextOffset - offset <= 300 + RecordsPerBatch, $"read {read.NextOffset - offset} records, asked 300");
            offsets.AddRange(read.GetBatches().SelectMany(b => b).Select(r => r.Offset).Where(o => o >= offset));
            offset = read.NextOffset;
        }

        Assert.Equal(Enumerable.Range(0, 120 * RecordsPerBatch).Select(i => (long)i), offsets);
    }

    [Fact]
    public async Task ANonPositiveRecordLimit_IsRefused()
    {
        using var dir = new TempDirectory();
        await using var log = PartitionLog.Open(dir.Path, Options());
        await log.AppendAsync(Batch("a"));

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await log.ReadAsync(0, 1024, maxRecords: 0, maxOffset: long.MaxValue));
    }

    private static async Task AppendAsync(PartitionLog log, int batches, int payloadBytes)
    {
        var payload = new string('p', payloadBytes);
        for (int i = 0; i < batches; i++) await log.AppendAsync(Batch(Enumerable.Repeat(payload, RecordsPerBatch).ToArray()));
    }
}
