namespace Granary.Tests.Broker;

/// <summary>
/// An ack, nack, reject or lease extension names the delivery it answers. One that answers a delivery whose lease
/// ended, when the message went to another member since, is refused as <see cref="GranaryErrorCode.StaleDelivery"/> and
/// leaves the new holder's lease alone (issue 16, item 8).
/// </summary>
[Collection(BrokerCluster.Name)]
[Trait("Category", "Integration")]
public sealed class StaleAckTests(BrokerClusterFixture fixture)
{
    private static readonly TimeSpan NoExpiry = ClientTestExtensions.NoExpiry;

    private GranaryClient Client => fixture.Client;

    private IGrainFactory Grains => fixture.Cluster.SiloGrainFactory();

    [Fact]
    public async Task ALateAckThroughTheSdk_ThrowsStaleDelivery_AndLeavesTheNewHoldersLease()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using (var producer = Client.CreateProducer(topic)) await producer.SendAsync(new OutgoingMessage("x"u8.ToArray()));
        // One pull per 20 s: after its first delivery this consumer pulls no more for a while, so B gets the redelivery.
        await using var consumerA = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = TimeSpan.FromSeconds(1), MaxMessagesPerSecond = 0.05 });
        var fromA = Assert.Single(await Eventually.CollectAsync(consumerA.ReadAllAsync(), r => r.Count >= 1));
        var cursor = Grains.GetGrain<IPartitionCursorGrain>($"{topic}/g/0");
        Delivery[] b = [];
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (b.Length == 0 && DateTime.UtcNow < deadline) b = await cursor.PullDecodedAsync("B", 1, NoExpiry, TimeSpan.FromSeconds(1));
        Assert.Equal(2, Assert.Single(b).Attempt);

        var refused = await Assert.ThrowsAsync<GranaryException>(() => fromA.AckConfirmedAsync()); // AckAsync only queues: the confirmed form carries the refusal
        Assert.Equal(GranaryErrorCode.StaleDelivery, refused.Code);
        Assert.False(refused.IsRetriable);
        Assert.Equal(1, (await cursor.DescribeAsync()).InFlight);
        Assert.Empty((await cursor.NackAsync("B", [b[0].Ref], TimeSpan.Zero)).Refused); // B's nack really returns it
        Assert.Equal(0, (await cursor.DescribeAsync()).InFlight);
    }
}
