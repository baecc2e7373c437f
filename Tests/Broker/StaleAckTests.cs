namespace Granary.Tests.Broker;

/// <summary>
/// An ack, nack, reject or lease extension names the delivery it answers. One that answers a delivery whose lease
/// ended, when the message went to another member since, is refused as <see cref="ErrorCode.StaleDelivery"/> and
/// leaves the new holder's lease alone (issue 16, item 8).
/// </summary>
[Collection(BrokerCluster.Name)]
[Trait("Category", "Integration")]
public sealed class StaleAckTests(BrokerClusterFixture fixture)
{
    private static readonly TimeSpan NoExpiry = ClientTestExtensions.NoExpiry;

    private GranaryClient Client => fixture.Client;

    private IGrainFactory Grains => fixture.Cluster.SiloGrainFactory();

    /// <summary>A's lease (200 ms) runs out; pulls as B until B holds the message.</summary>
    private static async Task<(Delivery A, Delivery B)> LeaseToAThenBAsync(IPartitionCursorGrain cursor)
    {
        var a = Assert.Single(await cursor.PullDecodedAsync("A", 1, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10)));
        Delivery[] b = [];
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (b.Length == 0 && DateTime.UtcNow < deadline) b = await cursor.PullDecodedAsync("B", 1, NoExpiry, TimeSpan.FromSeconds(1));
        Assert.Equal(2, Assert.Single(b).Attempt);
        return (a, b[0]);
    }

    [Fact]
    public async Task ALateAck_IsRefused_AndTheNewHolderKeepsItsLease_WhichItsNackThenReallyReturns()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using (var producer = Client.CreateProducer(topic)) await producer.SendAsync(new OutgoingMessage("x"u8.ToArray()));
        var cursor = Grains.GetGrain<IPartitionCursorGrain>($"{topic}/g/0");
        var (a, b) = await LeaseToAThenBAsync(cursor);
        Assert.NotEqual(a.LeaseId, b.LeaseId);

        // Before the fix this ack settled B's lease: the message was done, B's nack below did nothing.
        Assert.Equal([a.Ref], await cursor.AckAsync("A", [a.Ref]));
        Assert.Equal([a.Ref], await cursor.RejectAsync("A", [a.Ref]));
        Assert.Equal([a.Ref], (await cursor.NackAsync("A", [a.Ref], TimeSpan.Zero)).Refused);
        Assert.Empty(await cursor.ExtendAsync("A", [a.Ref], NoExpiry));
        // B's lease id, but not B: refused too.
        Assert.Equal([b.Ref], await cursor.AckAsync("A", [b.Ref]));
        var info = await cursor.DescribeAsync();
        Assert.Equal(1, info.InFlight);
        Assert.Equal(0, info.CommittedOffset);

        var nacked = await cursor.NackAsync("B", [b.Ref], TimeSpan.Zero);
        Assert.Empty(nacked.Refused);
        var again = Assert.Single(await cursor.PullDecodedAsync("C", 1, NoExpiry, TimeSpan.FromSeconds(10)));
        Assert.Equal(a.Message.Offset, again.Message.Offset);
        Assert.Equal(3, again.Attempt);
        Assert.Empty(await cursor.AckAsync("C", [again.Ref]));
        Assert.Equal(1, (await cursor.DescribeAsync()).CommittedOffset);
    }

    [Fact]
    public async Task ALateAck_WhenNobodyHasTheMessageSince_IsTaken()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using (var producer = Client.CreateProducer(topic)) await producer.SendAsync(new OutgoingMessage("x"u8.ToArray()));
        var cursor = Grains.GetGrain<IPartitionCursorGrain>($"{topic}/g/0");
        var a = Assert.Single(await cursor.PullDecodedAsync("A", 1, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10)));
        await Eventually.UntilAsync(async () => (await cursor.DescribeAsync()).InFlight == 0); // A's lease ran out

        Assert.Empty(await cursor.AckAsync("A", [a.Ref])); // the work was done: no reason to do it again
        Assert.Equal(1, (await cursor.DescribeAsync()).CommittedOffset);
        Assert.Empty(await cursor.AckAsync("A", [a.Ref])); // done already: ignored
    }

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

        var refused = await Assert.ThrowsAsync<GranaryException>(fromA.AckAsync);
        Assert.Equal(ErrorCode.StaleDelivery, refused.Code);
        Assert.False(refused.IsRetriable);
        Assert.Equal(1, (await cursor.DescribeAsync()).InFlight);
        Assert.Empty((await cursor.NackAsync("B", [b[0].Ref], TimeSpan.Zero)).Refused); // B's nack really returns it
        Assert.Equal(0, (await cursor.DescribeAsync()).InFlight);
    }
}
