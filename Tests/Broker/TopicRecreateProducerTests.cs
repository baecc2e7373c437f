namespace Granary.Tests.Broker;

[Collection(BrokerCluster.Name)]
public sealed class TopicRecreateProducerTests(BrokerClusterFixture fixture)
{
    private GranaryClient Client => fixture.Client;

    [Fact]
    public async Task RecreatedWithFewerPartitions_TheSameProducerReroutesKeyedSends()
    {
        string topic = BrokerClusterFixture.UniqueTopic("recreate");
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 4 });
        // The refresh interval stays long: the producer must notice the change from the partitions' answers.
        await using var producer = Client.CreateProducer(topic, new ProducerOptions { MetadataRefreshInterval = TimeSpan.FromHours(1) });
        var keys = Enumerable.Range(0, 40).Select(i => $"key-{i}").ToArray();
        var before = await Task.WhenAll(keys.Select(k => producer.SendAsync(new OutgoingMessage("before"u8.ToArray()) { Key = k })));
        Assert.Equal(4, before.Select(r => r.Partition).Distinct().Count());

        await Client.Admin.DeleteTopicAsync(topic);
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });

        var after = await Task.WhenAll(keys.Select(k => producer.SendAsync(new OutgoingMessage("after"u8.ToArray()) { Key = k })));
        Assert.All(after, r => Assert.InRange(r.Partition, 0, 1));
        var description = await Client.Admin.DescribeTopicAsync(topic);
        Assert.Equal(keys.Length, description.PartitionDetails.Sum(p => p.EndOffset - p.StartOffset));
        // Keys go where the new partition count sends them: same key, same partition.
        var again = await Task.WhenAll(keys.Select(k => producer.SendAsync(new OutgoingMessage("again"u8.ToArray()) { Key = k })));
        Assert.Equal(after.Select(r => r.Partition), again.Select(r => r.Partition));
    }

    [Fact]
    public async Task DeletedAndNotRecreated_SendsFailWithTopicNotFound()
    {
        string topic = BrokerClusterFixture.UniqueTopic("gone");
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });
        await using var producer = Client.CreateProducer(topic, new ProducerOptions { MetadataRefreshInterval = TimeSpan.FromHours(1) });
        await producer.SendAsync(new OutgoingMessage("before"u8.ToArray()) { Key = "k" });

        await Client.Admin.DeleteTopicAsync(topic);

        var error = await Assert.ThrowsAsync<GranaryException>(() => producer.SendAsync(new OutgoingMessage("after"u8.ToArray()) { Key = "k" }));
        Assert.Equal(GranaryErrorCode.TopicNotFound, error.Code);
    }
}
