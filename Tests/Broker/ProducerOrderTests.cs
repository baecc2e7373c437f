namespace Granary.Tests.Broker;

[Collection(BrokerCluster.Name)]
public sealed class ProducerOrderTests(BrokerClusterFixture fixture)
{
    [Fact]
    public async Task SendAsync_PipelinedOnAFreshProducer_StoredInCallOrder()
    {
        string topic = BrokerClusterFixture.UniqueTopic("order");
        await fixture.Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 3 });
        // Each round is a fresh producer: the sends race its first metadata fetch, where the order used to break.
        for (int round = 0; round < 5; round++)
        {
            await using var producer = fixture.Client.CreateProducer(topic);
            var sends = new Task<SendReceipt>[200];
            for (int i = 0; i < sends.Length; i++)
                sends[i] = producer.SendAsync(new OutgoingMessage(BitConverter.GetBytes(i)) { Key = $"key-{round}" });
            var receipts = await Task.WhenAll(sends);

            Assert.Single(receipts.Select(r => r.Partition).Distinct());
            var offsets = receipts.Select(r => r.Offset).ToArray();
            Assert.Equal(offsets.Order(), offsets);
        }
    }

    [Fact]
    public async Task SendAsync_PartitionQueuesFull_EachKeyStoredInCallOrder()
    {
        string topic = BrokerClusterFixture.UniqueTopic("order-full");
        await fixture.Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 3 });
        // Room for two queued messages per partition: nearly every send waits for room behind others.
        await using var producer = fixture.Client.CreateProducer(topic, new ProducerOptions { MaxBufferedMessages = 2, MaxBatchMessages = 3 });
        string[] keys = ["a", "b", "c", "d"];
        var sends = new List<(string Key, Task<SendReceipt> Send)>();
        for (int i = 0; i < 400; i++)
        {
            string key = keys[i % keys.Length];
            sends.Add((key, producer.SendAsync(new OutgoingMessage(BitConverter.GetBytes(i)) { Key = key })));
        }
        await Task.WhenAll(sends.Select(s => s.Send));

        foreach (var byKey in sends.GroupBy(s => s.Key))
        {
            var receipts = byKey.Select(s => s.Send.Result).ToArray();
            Assert.Single(receipts.Select(r => r.Partition).Distinct());
            var offsets = receipts.Select(r => r.Offset).ToArray();
            Assert.Equal(offsets.Order(), offsets);
        }
    }
}
