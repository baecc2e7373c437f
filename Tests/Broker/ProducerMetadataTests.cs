namespace Granary.Tests.Broker;

[Collection(BrokerCluster.Name)]
public sealed class ProducerMetadataTests(BrokerClusterFixture fixture)
{
    [Fact]
    public async Task AddPartitions_ALiveProducerSendsToTheNewPartitions()
    {
        var (topic, producer) = await GrownTopicAsync(TimeSpan.FromMilliseconds(200), partitions: 3);
        await using var _ = producer;

        var partitionsUsed = new HashSet<int>();
        await Eventually.UntilAsync(async () =>
        {
            partitionsUsed.Add((await producer.SendAsync(new OutgoingMessage("after"u8.ToArray()))).Partition);
            return partitionsUsed.Count == 3;
        });
        var description = await fixture.Client.Admin.DescribeTopicAsync(topic);
        Assert.All(description.PartitionDetails, p => Assert.True(p.EndOffset > 0, $"partition {p.Partition} got nothing"));
    }

    [Fact]
    public async Task AddPartitions_AnExplicitNewPartitionIsFoundAtOnce()
    {
        var (_, producer) = await GrownTopicAsync(TimeSpan.FromHours(1), partitions: 2);
        await using var _ = producer;

        Assert.Equal(1, (await producer.SendAsync(new OutgoingMessage("new"u8.ToArray()) { Partition = 1 })).Partition);
        var missing = await Assert.ThrowsAsync<GranaryException>(() => producer.SendAsync(new OutgoingMessage("x"u8.ToArray()) { Partition = 2 }));
        Assert.Equal(GranaryErrorCode.InvalidArgument, missing.Code);
    }

    /// <summary>A one-partition topic with a producer that has sent to it, then grown to <paramref name="partitions"/>.</summary>
    private async Task<(string Topic, GranaryProducer Producer)> GrownTopicAsync(TimeSpan refreshInterval, int partitions)
    {
        string topic = BrokerClusterFixture.UniqueTopic("grow");
        await fixture.Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 1 });
        // A one-byte sticky share: each unkeyed send moves to the next partition, so that a few serial sends reach
        // the new ones (with the default 16 KiB share it takes hundreds).
        var producer = fixture.Client.CreateProducer(topic, new ProducerOptions { MetadataRefreshInterval = refreshInterval, StickyPartitionBytes = 1 });
        await producer.SendAsync(new OutgoingMessage("before"u8.ToArray()));
        await fixture.Client.Admin.AddPartitionsAsync(topic, partitions);
        return (topic, producer);
    }
}
