using Granary.Grains.Partitions;
using Granary.Records;
using Granary.Storage;

namespace Granary.Tests.Grains;

/// <summary>
/// The partition's append core allocates nothing per message (issue 18, item 3): the one check of a producer's batch
/// (with the message-id hashes it collects), the stamp and the append to the log, measured with
/// GC.GetAllocatedBytesForCurrentThread on batches as the SDK encodes them. Only what the partition does per batch
/// (none of it per message) may allocate.
/// </summary>
public sealed class AppendAllocationTests(ITestOutputHelper output)
{
    private const int Messages = 1000;

    [Fact]
    public async Task ValidateStampAndAppend_AllocateLessThanOneBytePerMessage()
    {
        using var dir = new TempDirectory();
        // FlushPolicy.None: the append completes synchronously, so the whole path runs on this thread.
        await using var log = PartitionLog.Open(dir.Path, new PartitionLogOptions { FlushPolicy = FlushPolicy.None, SegmentBytes = 256 << 20 });
        var batches = Enumerable.Range(0, 60).Select(b => ProduceBatchEncoder.Encode(
            Enumerable.Range(0, Messages).Select(i => new Message(null, new byte[100],
                [new MessageHeader(GranaryHeaders.MessageId, Encoding.UTF8.GetBytes($"id-{b}-{i}"))])).ToArray(),
            producerId: 42, baseSequence: b * Messages)).ToArray();
        var ids = new UInt128[Messages];
        var hasId = new bool[Messages];

        void AppendOne(ProduceBatch batch)
        {
            var summary = ProducedBatchValidator.Validate(batch, batch.Records.Span, 1 << 20, "t", ids, hasId);
            Assert.Equal(Messages, summary.IdCount);
            var writable = System.Runtime.InteropServices.MemoryMarshal.AsMemory(batch.Records);
            RecordBatchCodec.StampTime(writable.Span, 1_700_000_000_000, 60_000);
            var pending = log.AppendValidatedAsync(writable);
            Assert.True(pending.IsCompletedSuccessfully);
        }

        for (int b = 0; b < 10; b++) AppendOne(batches[b]); // warm up: JIT, pools, index buffers
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int b = 10; b < batches.Length; b++) AppendOne(batches[b]);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        double perMessage = allocated / (double)((batches.Length - 10) * Messages);
        output.WriteLine($"{allocated} bytes for {(batches.Length - 10) * Messages} messages in {batches.Length - 10} batches: {perMessage:0.000} bytes per message");
        Assert.True(perMessage < 1, $"{perMessage:0.000} bytes per message");
        Assert.Equal(batches.Length * Messages, log.EndOffset);
    }
}
