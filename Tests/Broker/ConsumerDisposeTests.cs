namespace Granary.Tests.Broker;

/// <summary>Disposing a consumer sends the acks it has queued before it leaves its group (issue 16, item 10).</summary>
[Collection(BrokerCluster.Name)]
[Trait("Category", "Integration")]
public sealed class ConsumerDisposeTests(BrokerClusterFixture fixture)
{
    private static readonly TimeSpan NoExpiry = ClientTestExtensions.NoExpiry;

    private GranaryClient Client => fixture.Client;

    [Fact]
    public async Task Dispose_RightAfterAckingWithoutAwaiting_DeliversTheAcksBeforeLeaving()
    {
        const int Partitions = 16, Count = 4000;
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = Partitions });
        await using var producer = Client.CreateProducer(topic);
        await Task.WhenAll(Enumerable.Range(0, Count).Select(i => producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"m{i}")) { Key = $"k{i}" })));

        var options = new ConsumerOptions { AckTimeout = NoExpiry, MaxPrefetch = 4 * Count };
        var first = Client.CreateConsumer(topic, "g", options);
        var received = await Eventually.CollectAsync(first.ReadAllAsync(), r => r.Count >= Count);
        var acks = received.Select(m => m.AckAsync()).ToList(); // queued, not awaited
        await first.DisposeAsync();

        // Before the fix Dispose returned (and left the group) while acks were still queued or on their way.
        Assert.Equal(Count, acks.Count(a => a.IsCompletedSuccessfully));
        Assert.Equal(0, (await Client.Admin.GetLagAsync(topic, "g")).TotalLag);

        // A new member of the group gets nothing of them again: the marker sent now is the first thing it sees.
        await producer.SendAsync(new OutgoingMessage("marker"u8.ToArray()));
        await using var second = Client.CreateConsumer(topic, "g", options);
        var again = await Eventually.CollectAsync(second.ReadAllAsync(), r => r.Any(m => MessagingTests.Text(m) == "marker"), onEach: m => m.AckConfirmedAsync()); // lag is read at once below
        Assert.Equal(["marker"], again.Select(MessagingTests.Text));
        Assert.Equal(0, (await Client.Admin.GetLagAsync(topic, "g")).TotalLag);
    }

    [Fact]
    public async Task Dispose_GivesBackPrefetchedMessagesTheApplicationNeverSaw_WithoutCountingADelivery()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using var producer = Client.CreateProducer(topic);
        for (int i = 0; i < 5; i++) await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"m{i}")));
        var options = new ConsumerOptions { AckTimeout = NoExpiry };
        var cursor = fixture.Cluster.SiloGrainFactory().GetGrain<IPartitionCursorGrain>($"{topic}/g/0");

        var first = Client.CreateConsumer(topic, "g", options);
        var seen = Assert.Single(await Eventually.CollectAsync(first.ReadAllAsync(), r => r.Count >= 1));
        await Eventually.UntilAsync(async () => (await cursor.DescribeAsync()).InFlight == 5); // the other four prefetched
        await first.DisposeAsync(); // without acking

        await using var second = Client.CreateConsumer(topic, "g", options);
        var again = await Eventually.CollectAsync(second.ReadAllAsync(), r => r.Count >= 5, onEach: m => m.AckAsync());
        // The one the application saw was delivered; the four it never saw were not (before: all five came as attempt 2).
        Assert.Equal(2, again.Single(m => m.Offset == seen.Offset).DeliveryAttempt);
        Assert.All(again.Where(m => m.Offset != seen.Offset), m => Assert.Equal(1, m.DeliveryAttempt));
    }
}
