using Granary.Records;
using Granary.Storage;

namespace Granary.Tests.Storage;

/// <summary>Segment files written by format version 1 still open and read, field for field, after format version 2.</summary>
public sealed class GoldenV1SegmentTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GoldenV1Segments_OpenAndReadEveryField(bool logFilesOnly)
    {
        using var dir = new TempDirectory();
        // Without indexes and checkpoint the log rebuilds them by scanning every v1 batch (recovery's path).
        foreach (var file in Directory.GetFiles(GoldenV1Segments.SourceDirectory))
        {
            if (!logFilesOnly || file.EndsWith(".log", StringComparison.Ordinal)) File.Copy(file, Path.Combine(dir.Path, Path.GetFileName(file)));
        }
        Assert.Equal(3, Directory.GetFiles(dir.Path, "*.log").Length);

        await using var log = PartitionLog.Open(dir.Path, GoldenV1Segments.Options());

        Assert.Equal(0, log.StartOffset);
        Assert.Equal(12, log.EndOffset);
        var expected = GoldenV1Segments.Records;
        var read = new List<StoredRecord>();
        while (read.Count < log.EndOffset)
        {
            // A read stops at the end of a segment; each segment is read in turn.
            using var result = await log.ReadAsync(read.Count, 1 << 20);
            Assert.True(result.NextOffset > read.Count);
            foreach (var batch in result.GetBatches())
            {
                Assert.Equal(1, batch.Memory.Span[16]); // really version 1 on disk
                foreach (var record in batch)
                {
                    var r = record;
                    Assert.Equal(read.Count, r.Offset);
                    var want = expected[read.Count];
                    Assert.Equal(GoldenV1Segments.Payload(read.Count), Encoding.UTF8.GetString(r.Payload.Span));
                    Assert.Equal(want.Key?.ToArray(), r.Key?.ToArray());
                    Assert.Equal(want.TimestampMs, r.TimestampMs);
                    Assert.Equal(want.ExpiresAtMs, r.ExpiresAtMs);
                    Assert.Equal(want.DeliverAtMs, r.DeliverAtMs);
                    Assert.Equal(want.ProducerId, r.ProducerId);
                    Assert.Equal(want.Sequence, r.Sequence);
                    Assert.Equal((want.Headers ?? []).Select(h => (h.Name, h.Value.ToArray())), r.GetHeaders().Select(h => (h.Name, h.Value.ToArray())));
                    // The encoded range is the record as stored: the batch's bytes from its length prefix on.
                    Assert.True(r.Encoded.Length > r.Payload.Length);
                    read.Add(r);
                }
            }
        }
        Assert.Equal(12, read.Count);
        // Timestamp lookups use the v1 time index (or the one rebuilt from the v1 batches).
        Assert.Equal(5, await log.FindOffsetByTimestampAsync(GoldenV1Segments.TimestampMs + 4_500));
        // And the log goes on taking appends after the v1 batches.
        Assert.Equal(new LogAppendResult(12, 1), await log.AppendAsync(RecordBatchBuilder.Encode([new LogRecord("after"u8.ToArray()) { TimestampMs = GoldenV1Segments.TimestampMs + 20_000 }])));
        Assert.Equal("after", (await LogTestKit.ReadAllAsync(log, 12)).Single().Payload);
    }
}
