using Granary.Grains.Cursors;
using Granary.Records;

namespace Granary.Tests.Grains;

/// <summary>
/// Allocations of the cursor's per-message work on the read path, measured on the current thread
/// (<see cref="GC.GetAllocatedBytesForCurrentThread"/>): decoding a fetch into compact entries and writing a pull's answer.
/// </summary>
public sealed class CursorAllocationTests(ITestOutputHelper output)
{
    private const int Batches = 10, PerBatch = 100;

    /// <summary>A fetch's buffer: <see cref="Batches"/> stored batches of <see cref="PerBatch"/> keyed 100-byte records.</summary>
    private static byte[] FetchedBuffer()
    {
        var buffer = new List<byte>();
        for (int b = 0; b < Batches; b++)
        {
            var batch = RecordBatchBuilder.Encode(Enumerable.Range(0, PerBatch).Select(i => new LogRecord(new byte[100])
            {
                Key = Encoding.UTF8.GetBytes($"key-{i % 7}"),
                Headers = [new RecordHeader("granary.message-id", Encoding.UTF8.GetBytes($"id-{b}-{i}"))],
                TimestampMs = 1_000,
            }));
            RecordBatchCodec.WriteBaseOffset(batch, (long)b * PerBatch);
            buffer.AddRange(batch);
        }
        return [.. buffer];
    }

    private static BufferedMessage[] Decode(byte[] fetched, BufferedMessage[] into)
    {
        int n = 0;
        foreach (var ranged in StoredBatches.Read(fetched, 0, Batches * PerBatch)) into[n++] = BufferedMessage.From(ranged);
        return into;
    }

    [Fact]
    public void DecodingAFetchIntoEntries_AllocatesNothingPerMessage()
    {
        var fetched = FetchedBuffer();
        var entries = new BufferedMessage[Batches * PerBatch];
        Decode(fetched, entries); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        Decode(fetched, entries);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"decode of {entries.Length} records: {allocated} bytes ({(double)allocated / entries.Length:F2} per message)");
        Assert.Equal(999, entries[^1].Offset);
        Assert.True(entries[5].HasKey);
        // Per fetch only (the batch list and the iterator), not per record.
        Assert.True(allocated < 2_000, $"{allocated} bytes for {entries.Length} records");
    }

    [Fact]
    public void APullsAnswer_AllocatesItsOneBufferAndLeasesAndNothingPerMessage()
    {
        var fetched = FetchedBuffer();
        var entries = Decode(fetched, new BufferedMessage[Batches * PerBatch]);
        // Every other message of two source batches: 100 leased records in 100 one-record batches, the worst grouping.
        var leased = entries.Skip(50).Where(e => e.Offset % 2 == 0).Take(100).ToArray();
        var leases = leased.Select(e => new LeasedRecord(e.Offset, 1, e.Offset)).ToArray();
        PullAnswer.Write(0, leased, leases); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        var answer = PullAnswer.Write(0, leased, leases);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long overhead = allocated - answer.Records.Length;
        output.WriteLine($"pull answer of {leased.Length} records: {allocated} bytes, of which {answer.Records.Length} the answer's buffer; "
            + $"{overhead} other ({(double)overhead / leased.Length:F2} per message)");
        Assert.Equal(leased.Select(e => e.Offset), PulledDeliveries.Decode(answer).Select(d => d.Message.Offset));
        // The buffer (the records' bytes and one header per batch) and the PullResult itself; nothing per message.
        Assert.True(overhead < 200, $"{overhead} bytes besides the buffer");
    }

    [Fact]
    public void ACompactPullsAnswer_AllocatesNoBufferAndNothingPerMessage_OnceThePoolHoldsAnArray()
    {
        var fetched = FetchedBuffer();
        var entries = Decode(fetched, new BufferedMessage[Batches * PerBatch]);
        // 600 consecutive deliveries (one run), a gap, 300 more (a second run), ten of them redeliveries.
        var leased = entries.Where(e => e.Offset is < 600 or >= 700).ToArray();
        var leases = leased.Select((e, i) => new LeasedRecord(e.Offset, e.Offset >= 700 && e.Offset < 710 ? 2 : 1, 5_000 + i)).ToArray();
        PullAnswer.WriteRuns(0, leased, leases).Records.ReturnToPool(); // warm up: the pool holds an array of this size
        long before = GC.GetAllocatedBytesForCurrentThread();
        var answer = PullAnswer.WriteRuns(0, leased, leases);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"compact pull answer of {leased.Length} records ({answer.Records.Length} bytes): {allocated} bytes allocated");
        Assert.Equal([new LeaseRun(0, 5_000, 600), new LeaseRun(700, 5_600, 300)], answer.Runs);
        Assert.Equal(Enumerable.Range(700, 10).Select(o => new LeaseAttempt(o, 2)), answer.Redeliveries);
        var decoded = PulledDeliveries.Decode(answer);
        Assert.Equal(leased.Select(e => e.Offset), decoded.Select(d => d.Message.Offset));
        Assert.Equal(leases.Select(l => (l.Attempt, l.LeaseId)), decoded.Select(d => (d.Attempt, d.LeaseId)));
        // The LeasedBatches, its PulledBytes and the two small arrays: per pull, not per message; the records' bytes
        // are in the pool's array (the earlier form allocated them, ~100 KB here, and 24 bytes a lease).
        Assert.True(allocated < 400, $"{allocated} bytes for {leased.Length} records");
        Assert.True(answer.Records.ReturnToPool());
    }
}
