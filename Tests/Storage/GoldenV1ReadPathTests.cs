using Granary.Client;
using Granary.Grains;
using Granary.Grains.Cursors;
using Granary.Records;
using Granary.Storage;

namespace Granary.Tests.Storage;

/// <summary>
/// Version-1 batches (the committed golden segments) through the whole read path as bytes: a fetch's buffer, the
/// cursor's compact entries (some compacted), a pull answer of leased records under copied v1 headers, and the SDK's
/// reader of that answer, field for field.
/// </summary>
public sealed class GoldenV1ReadPathTests
{
    [Fact]
    public async Task GoldenV1Batches_FetchedFromAMidBatchOffset_PulledAndReadByTheSdk_KeepEveryField()
    {
        using var dir = new TempDirectory();
        foreach (var file in Directory.GetFiles(GoldenV1Segments.SourceDirectory)) File.Copy(file, Path.Combine(dir.Path, Path.GetFileName(file)));
        await using var log = PartitionLog.Open(dir.Path, GoldenV1Segments.Options());

        // From offset 1: the first batch (offsets 0-1) starts before it, as a fetch returns it.
        var entries = new List<BufferedMessage>();
        long from = 1;
        while (from < log.EndOffset)
        {
            using var read = await log.ReadAsync(from, 1 << 20);
            var fetched = read.Batches.ToArray(); // the fetch's own buffer
            foreach (var ranged in StoredBatches.Read(fetched, from, read.NextOffset)) entries.Add(BufferedMessage.From(ranged));
            from = read.NextOffset;
        }
        Assert.Equal(Enumerable.Range(1, 11).Select(i => (long)i), entries.Select(e => e.Offset));

        // Leased: a contiguous run across batches, a gap, and compacted entries (own buffer, v1 header copied).
        int[] leasedOffsets = [1, 2, 3, 5, 8, 9, 11];
        var taken = leasedOffsets.Select(o => entries[o - 1]).Select((e, i) => i % 2 == 0 ? e.Compact() : e).ToArray();
        var leases = leasedOffsets.Select((o, i) => new LeasedRecord(o, i + 1, 100 + i)).ToArray();
        var answer = PullAnswer.Write(3, taken, leases);

        var pulled = PulledRecords.Read(answer);
        Assert.Equal(leasedOffsets.Length, pulled.Count);
        for (int i = 0; i < pulled.Count; i++)
        {
            var (record, lease) = pulled[i];
            int o = leasedOffsets[i];
            var want = GoldenV1Segments.Records[o];
            Assert.Equal(leases[i], lease);
            Assert.Equal(o, record.Offset);
            Assert.Equal(GoldenV1Segments.Payload(o), Encoding.UTF8.GetString(record.Payload.Span));
            Assert.Equal(want.Key?.ToArray(), record.Key?.ToArray());
            Assert.Equal(want.TimestampMs, record.TimestampMs);
            Assert.Equal(want.ExpiresAtMs, record.ExpiresAtMs);
            Assert.Equal(want.DeliverAtMs, record.DeliverAtMs);
            Assert.Equal((want.Headers ?? []).Select(h => (h.Name, h.Value.ToArray())), record.GetHeaders().Select(h => (h.Name, h.Value.ToArray())));
            var view = new MessageView("t", 3, record, lease.Attempt);
            Assert.Equal(want.Key is null ? null : Encoding.UTF8.GetString(want.Key.Value.Span), view.Key);
            Assert.Equal(o % 2 == 0 ? $"id-{o}" : null, view.MessageId);
        }
    }
}
