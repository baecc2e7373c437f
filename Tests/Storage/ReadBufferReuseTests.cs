using Granary.Storage;
using Granary.Tests.Broker;
using static Granary.Tests.Storage.LogTestKit;

namespace Granary.Tests.Storage;

/// <summary>
/// A fetch's read buffers come back round (issue 18, W2): in steady state a read rents an array the pool kept, even
/// while several cursors hold a few read buffers each and give them back on other threads, as fetched buffers are
/// released from whichever turn takes their last message. A read that allocated its array anew would cost the array
/// (here 256 KB) per fetch, about 200 bytes per message of a 1,000-record fetch.
/// </summary>
[Collection(AllocationMeasurement.Name)]
public sealed class ReadBufferReuseTests(ITestOutputHelper output)
{
    private const int RecordsPerBatch = 50, RecordsPerRead = 1_000, Held = 12;

    [Fact]
    public async Task SteadyReads_HoldingSeveralBuffers_GivenBackOnOtherThreads_RentNoNewArray()
    {
        using var dir = new TempDirectory();
        await using var log = PartitionLog.Open(dir.Path, Options(segmentBytes: 64 << 20, indexIntervalBytes: 4096));
        var payload = new string('p', 100);
        for (int i = 0; i < 400; i++) await log.AppendAsync(Batch(Enumerable.Repeat(payload, RecordsPerBatch).ToArray()));
        var held = new Queue<LogReadResult>();

        await ReadAllAsync(log, held, passes: 3); // warm-up: the pool fills to what is held at once
        long before = GC.GetTotalAllocatedBytes(precise: true);
        int reads = await ReadAllAsync(log, held, passes: 5);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        while (held.TryDequeue(out var read)) read.Dispose();

        double perRead = (double)allocated / reads;
        output.WriteLine($"{allocated:N0} bytes for {reads} reads of {RecordsPerRead} records, {Held} held at once: {perRead:N0} per read");
        // The read's own objects (result, state machines, the file read) are a few hundred bytes; its array is 256 KB.
        Assert.True(perRead < 8 * 1024, $"{perRead:N0} bytes per read");
    }

    /// <summary>Reads the log from start to end <paramref name="passes"/> times, keeping the last reads and giving the oldest back on the thread pool.</summary>
    private static async Task<int> ReadAllAsync(PartitionLog log, Queue<LogReadResult> held, int passes)
    {
        int reads = 0;
        for (int pass = 0; pass < passes; pass++)
        {
            long offset = 0;
            while (offset < log.EndOffset)
            {
                var read = await log.ReadAsync(offset, 1 << 20, RecordsPerRead, long.MaxValue);
                if (read.NextOffset - offset != RecordsPerRead) Assert.Fail($"read {read.NextOffset - offset} records at {offset}");
                offset = read.NextOffset;
                reads++;
                held.Enqueue(read);
                if (held.Count > Held)
                {
                    var oldest = held.Dequeue();
                    await Task.Run(oldest.Dispose);
                }
            }
        }
        return reads;
    }
}
