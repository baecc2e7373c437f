using Granary.Records;

namespace Granary.Tests.Broker;

/// <summary>
/// A batch whose record count is a consistent lie (header and call agree, the bytes hold far fewer records) is refused
/// without the partition sizing anything by that count: its working memory grows only with records actually read.
/// </summary>
[Collection(AllocationMeasurement.Name)]
public sealed class ForgedCountAllocationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AForgedHugeRecordCount_IsRefused_WithoutAllocatingInProportionToIt()
    {
        await using var silo = await OneSiloCluster.StartAsync();
        string topic = BrokerClusterFixture.UniqueTopic("forged-count");
        await silo.Client.Admin.CreateTopicAsync(topic, new TopicOptions());
        // A local call (no serialization): what is measured is the partition's own work.
        var partition = silo.Cluster.SiloGrainFactory().GetGrain<IPartitionGrain>($"{topic}/0");
        await partition.AppendAsync(ProduceBatchEncoder.Encode([new Message(null, new byte[10], null)], producerId: 0, baseSequence: 0));

        // 4 MB claiming 2,000,000 records (length, count and CRC consistent); the first record does not decode.
        const int count = 2_000_000;
        var records = new byte[4 << 20];
        RecordBatchCodec.WriteHeader(records, 0, count, 1, 1, RecordBatchCodec.NoDefaultTtl);
        var forged = new ProduceBatch(records, count);

        long before = GC.GetTotalAllocatedBytes(precise: true);
        var e = await Assert.ThrowsAsync<GranaryException>(() => partition.AppendAsync(forged));
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        output.WriteLine($"{allocated} bytes allocated refusing the forged batch");
        Assert.Equal(GranaryErrorCode.InvalidArgument, e.Code);
        // Sized by the claimed count, the check's scratch alone would be 2,000,000 x 17 bytes (34 MB), kept per thread.
        Assert.True(allocated < 4 << 20, $"{allocated} bytes allocated");
        Assert.Equal(1, (await partition.DescribeAsync()).EndOffset);
    }
}
