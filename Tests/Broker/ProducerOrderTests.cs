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
}
