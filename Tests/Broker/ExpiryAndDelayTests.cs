namespace Granary.Tests.Broker;

/// <summary>Time to live (per topic and per message) and delayed delivery, on the shared test cluster.</summary>
[Collection(BrokerCluster.Name)]
public sealed class ExpiryAndDelayTests(BrokerClusterFixture fixture)
{
    private static readonly TimeSpan NoExpiry = ClientTestExtensions.NoExpiry;

    private GranaryClient Client => fixture.Client;

    /// <summary>Creates the group, then leaves: from here on no consumer is connected.</summary>
    private async Task CreateGroupWithNoConsumerAsync(string topic, string group)
    {
        await using var consumer = Client.CreateConsumer(topic, group);
        await consumer.StartAsync();
    }

    [Fact]
    public async Task TopicTimeToLive_ExpiredMessagesAreDeadLetteredWithNoConsumerConnected_AndNeverDelivered()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2, DefaultTimeToLive = TimeSpan.FromSeconds(1) });
        await CreateGroupWithNoConsumerAsync(topic, "g");
        await using var producer = Client.CreateProducer(topic);
        var sent = await MessagingTests.SendAsync(producer, 10);

        // The dead-letter topic is created with the first dead letter.
        await Eventually.UntilAsync(() => Client.TopicExistsAsync($"{topic}.g.dlq"));
        await using (var dlq = Client.CreateConsumer($"{topic}.g.dlq", "inspect", new ConsumerOptions { AckTimeout = NoExpiry }))
        {
            var letters = await Eventually.CollectAsync(dlq.ReadAllAsync(), r => r.Count >= 10, onEach: m => m.AckAsync());
            Assert.Equal(sent.Keys.Order(), letters.Select(MessagingTests.Text).Order());
            Assert.All(letters, l => Assert.Equal("expired", DeadLetterTests.Header(l, GranaryHeaders.DeadLetterReason)));
            Assert.All(letters, l => Assert.Equal("0", DeadLetterTests.Header(l, GranaryHeaders.DeadLetterAttempts)));
        }
        await Eventually.UntilAsync(async () => (await Client.Admin.GetLagAsync(topic, "g")).Partitions.Sum(p => p.Expired) == 10);

        // A consumer that connects now gets a message sent without expiry, and none of the expired ones.
        await producer.SendAsync(new OutgoingMessage("later"u8.ToArray()) { TimeToLive = TimeSpan.FromHours(1) });
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry });
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync());
        Assert.Equal("later", MessagingTests.Text(Assert.Single(received)));
        var lag = await Client.Admin.GetLagAsync(topic, "g");
        Assert.Equal(10, lag.Partitions.Sum(p => p.DeadLettered));
    }

    [Fact]
    public async Task PerMessageTimeToLive_WithDropAction_DropsAndCountsButKeepsTheRest()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { ExpiredMessages = ExpiredMessageAction.Drop });
        await CreateGroupWithNoConsumerAsync(topic, "g");
        await using var producer = Client.CreateProducer(topic);
        await producer.SendAsync(new OutgoingMessage("short"u8.ToArray()) { TimeToLive = TimeSpan.FromMilliseconds(500) });
        await producer.SendAsync(new OutgoingMessage("forever"u8.ToArray()));

        await Eventually.UntilAsync(async () => (await Client.Admin.GetLagAsync(topic, "g")).Partitions.Sum(p => p.Expired) == 1);
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry });
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync());
        Assert.Equal("forever", MessagingTests.Text(Assert.Single(received)));
        var topics = await Client.Admin.ListTopicsAsync();
        Assert.DoesNotContain($"{topic}.g.dlq", topics);
        Assert.Equal(0, (await Client.Admin.GetLagAsync(topic, "g")).Partitions.Sum(p => p.DeadLettered));
    }

    [Fact]
    public async Task AMessageWhoseLeaseEnded_StillExpires_WhileTheBufferIsFull_AndNobodyPulls()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { ExpiredMessages = ExpiredMessageAction.Drop });
        await CreateGroupWithNoConsumerAsync(topic, "g");
        await using var producer = Client.CreateProducer(topic);
        await producer.SendAsync(new OutgoingMessage("short"u8.ToArray()) { TimeToLive = TimeSpan.FromSeconds(3) });
        // Enough behind it to fill the cursor's buffer of ready messages.
        await Task.WhenAll(Enumerable.Range(0, 2100).Select(_ => producer.SendAsync(new OutgoingMessage("x"u8.ToArray()))));

        var cursor = fixture.Cluster.SiloGrainFactory().GetGrain<IPartitionCursorGrain>($"{topic}/g/0");
        var leased = await cursor.PullDecodedAsync("A", 1, NoExpiry, TimeSpan.FromSeconds(10));
        Assert.Equal(0, Assert.Single(leased).Message.Offset);
        // The member goes: its lease ends, and the message must be read again before it can expire. Nobody pulls.
        await cursor.ReleaseMemberAsync("A");

        await Eventually.UntilAsync(async () => (await Client.Admin.GetLagAsync(topic, "g")).Partitions.Sum(p => p.Expired) == 1);
        Assert.Equal(1, (await cursor.DescribeAsync()).CommittedOffset);
    }
}
