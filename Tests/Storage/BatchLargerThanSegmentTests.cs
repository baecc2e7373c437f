using Granary.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Tests.Storage;

/// <summary>
/// A producer batch may be larger than a segment (issue 16, item 9): every message within the topic's
/// MaxMessageBytes is storable whatever SegmentBytes is. A segment then holds that one batch alone.
/// </summary>
public sealed class BatchLargerThanSegmentTests
{
    [Fact]
    public async Task Send_DefaultProducerBatchesOnSmallSegments_StoresEveryMessage()
    {
        await using var silo = await OneSiloCluster.StartAsync(silo: s => s.Services.Configure<PartitionLogOptions>(o => o.SegmentBytes = 64 * 1024));
        await silo.Client.Admin.CreateTopicAsync("big-batches");
        await using var producer = silo.Client.CreateProducer("big-batches"); // default BatchBytes (256 KB) > SegmentBytes

        var payload = new byte[600];
        var sends = new List<Task<SendReceipt>>();
        for (int i = 0; i < 3000; i++) sends.Add(producer.SendAsync(new OutgoingMessage(payload)));
        var receipts = await Task.WhenAll(sends);

        Assert.Equal(3000, receipts.Select(r => (r.Partition, r.Offset)).Distinct().Count());
        var details = (await silo.Client.Admin.DescribeTopicAsync("big-batches")).PartitionDetails;
        Assert.Equal(3000, details.Sum(p => p.EndOffset - p.StartOffset));
    }

    [Fact]
    public async Task Append_BatchLargerThanSegmentBytes_GetsASegmentOfItsOwn()
    {
        using var dir = new TempDirectory();
        var options = new PartitionLogOptions { SegmentBytes = 4096, FlushPolicy = FlushPolicy.None };
        await using (var log = PartitionLog.Open(dir.Path, options))
        {
            await log.AppendAsync(LogTestKit.Batch("small"));
            await log.AppendAsync(LogTestKit.Batch(new string('x', 10_000)));
            await log.AppendAsync(LogTestKit.Batch("after"));
            Assert.Equal(3, log.SegmentCount); // rolled before the large batch and after it
        }
        await using var reopened = PartitionLog.Open(dir.Path, options);
        Assert.Equal(["small", new string('x', 10_000), "after"], await LogTestKit.ReadAllPayloadsAsync(reopened));
    }
}
