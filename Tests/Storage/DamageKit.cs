using Granary.Storage;

namespace Granary.Tests.Storage;

/// <summary>Reading a damaged log the way a consumer that accepts reported losses does, and writing one to damage.</summary>
internal static class DamageKit
{
    /// <summary>What a full read found: the records served, and the offsets reported lost (a read error naming where to go on).</summary>
    public sealed record ReadOutcome(Dictionary<long, string> Records, List<(long From, long To)> Reported);

    /// <summary>
    /// Reads from the start to the end; on a <see cref="LogCorruptedException"/> it notes the reported range and goes on
    /// at its <see cref="LogCorruptedException.ResumeOffset"/> (or one offset further when the error names none).
    /// </summary>
    public static async Task<ReadOutcome> ReadAcceptingLossAsync(PartitionLog log, int maxBytes = 2048)
    {
        var records = new Dictionary<long, string>();
        var reported = new List<(long, long)>();
        long offset = log.StartOffset;
        int guard = 0;
        while (offset < log.EndOffset)
        {
            Assert.True(++guard < 100_000, "the read does not make progress");
            try
            {
                using var result = await log.ReadAsync(offset, maxBytes);
                Assert.Equal(LogReadStatus.Ok, result.Status);
                if (result.BatchCount == 0)
                {
                    // Nothing returned below the end and no error: that would be a silent stop.
                    Assert.Fail($"empty read at offset {offset} below end {log.EndOffset}");
                }
                foreach (var batch in result.GetBatches())
                {
                    foreach (var record in batch)
                    {
                        if (record.Offset >= offset) records[record.Offset] = Encoding.UTF8.GetString(record.Payload.Span);
                    }
                }
                Assert.True(result.NextOffset > offset);
                offset = result.NextOffset;
            }
            catch (LogCorruptedException e)
            {
                long from = e.Offset ?? offset;
                long to = e.ResumeOffset ?? offset + 1;
                Assert.True(to > offset, $"resume offset {to} does not move past {offset}");
                reported.Add((Math.Min(from, offset), to));
                offset = to;
            }
        }
        return new ReadOutcome(records, reported);
    }

    /// <summary>A log of <paramref name="batches"/> batches of 3 records each over small segments, closed; returns the payload of every offset.</summary>
    public static async Task<Dictionary<long, string>> WriteLogAsync(string directory, PartitionLogOptions options, int batches = 150)
    {
        var written = new Dictionary<long, string>();
        await using var log = PartitionLog.Open(directory, options);
        for (int i = 0; i < batches; i++)
        {
            var payloads = Enumerable.Range(0, 3).Select(j => $"b{i}-r{j}-{new string((char)('a' + i % 26), 40)}").ToArray();
            var appended = await log.AppendAsync(LogTestKit.Batch(payloads));
            for (int j = 0; j < payloads.Length; j++) written[appended.BaseOffset + j] = payloads[j];
        }
        return written;
    }

    public static PartitionLogOptions SmallSegments() => LogTestKit.Options(FlushPolicy.Always, segmentBytes: 4096, indexIntervalBytes: 256);

    public static long[] SegmentBases(string directory) =>
        [.. Directory.GetFiles(directory, "*.log").Select(f => long.Parse(Path.GetFileNameWithoutExtension(f), System.Globalization.CultureInfo.InvariantCulture)).Order()];
}
