using System.IO.Hashing;
using Granary.Grains.Partitions;

namespace Granary.Tests.Grains;

/// <summary>
/// The check of a producer's batch keeps each record's message-id hash in per-thread scratch that grows as records are
/// read (never sized by the count a batch claims): what it grew past keeps what was filled before.
/// </summary>
public sealed class ProducedBatchScratchTests
{
    [Fact]
    public void ABatchLargerThanTheScratch_KeepsEveryRecordsIdHash_AcrossGrowth()
    {
        const int count = 5000;
        var batch = ProduceBatchEncoder.Encode(
            Enumerable.Range(0, count).Select(i => new Message(null, new byte[4],
                i % 3 == 0 ? null : [new MessageHeader(GranaryHeaders.MessageId, Encoding.UTF8.GetBytes($"id-{i}"))])).ToArray(),
            producerId: 0, baseSequence: 0);
        Exception? failure = null;
        // A new thread: its scratch starts empty, so the check grows it several times on the way.
        var thread = new Thread(() =>
        {
            try
            {
                var summary = ProducedBatchValidator.Validate(batch, batch.Records.Span, 1 << 20, "t");
                Assert.Equal(Enumerable.Range(0, count).Count(i => i % 3 != 0), summary.IdCount);
                var ids = AppendScratch.Ids(count);
                var hasId = AppendScratch.HasId(count);
                for (int i = 0; i < count; i++)
                {
                    Assert.Equal(i % 3 != 0, hasId[i]);
                    if (hasId[i]) Assert.Equal(ProducedBatchValidator.HashId(Encoding.UTF8.GetBytes($"id-{i}")), ids[i]);
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        Assert.Null(failure);
    }
    [Fact]
    public void AnExceptionallyLargeBatch_DoesNotPinItsScratchOnTheThread_PastTheNextBatch()
    {
        static ProduceBatch Batch(int count) => ProduceBatchEncoder.Encode(
            Enumerable.Range(0, count).Select(_ => new Message(null, ReadOnlyMemory<byte>.Empty, null)).ToArray(), producerId: 0, baseSequence: 0);
        var huge = Batch(AppendScratch.RetainedEntries * 3);
        var usual = Batch(10);
        int kept = -1;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                ProducedBatchValidator.Validate(huge, huge.Records.Span, 1 << 20, "t");
                Assert.True(AppendScratch.Ids(1).Length >= AppendScratch.RetainedEntries * 3);
                ProducedBatchValidator.Validate(usual, usual.Records.Span, 1 << 20, "t");
                kept = AppendScratch.Ids(1).Length;
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        Assert.Null(failure);
        Assert.InRange(kept, 10, AppendScratch.RetainedEntries);
    }
}
