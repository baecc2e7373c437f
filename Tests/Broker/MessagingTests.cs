namespace Granary.Tests.Broker;

[Collection(BrokerCluster.Name)]
public sealed class MessagingTests(BrokerClusterFixture fixture)
{
    /// <summary>
    /// Tests that assert each message arrives exactly once, in order, use a lease no stall of a loaded machine can
    /// outlast: after a lease expires a redelivery is correct (at-least-once) and would only make them flaky.
    /// </summary>
    // A short poll: disposing an idle consumer waits for its pending poll to end (up to PollWait, 5 s by default).
    private static readonly ConsumerOptions NoExpiry = new() { AckTimeout = TimeSpan.FromMinutes(10), PollWait = TimeSpan.FromMilliseconds(200) };

    private GranaryClient Client => fixture.Client;

    [Fact]
    public async Task PubSub_TwoGroups_EachReceiveEveryMessage()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 4 });
        await using var producer = Client.CreateProducer(topic);
        var sent = await SendAsync(producer, 200);

        foreach (string group in new[] { "billing", "shipping" })
        {
            await using var consumer = Client.CreateConsumer(topic, group, NoExpiry);
            var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 200, onEach: m => m.AckAsync());
            Assert.Equal(sent.Keys.Order(), received.Select(Text).Order());
        }
    }

    [Fact]
    public async Task NewGroup_StartsAtEarliestByDefault_OrAtLatestWhenAsked()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });
        await using var producer = Client.CreateProducer(topic);
        await SendAsync(producer, 20, prefix: "before");

        await using var latest = Client.CreateConsumer(topic, "latest", new ConsumerOptions { StartPosition = StartPosition.Latest, AckTimeout = NoExpiry.AckTimeout });
        await latest.StartAsync();
        await using var earliest = Client.CreateConsumer(topic, "earliest", NoExpiry);
        await earliest.StartAsync();
        await SendAsync(producer, 10, prefix: "after");

        var fromLatest = await Eventually.CollectAsync(latest.ReadAllAsync(), r => r.Count >= 10, onEach: m => m.AckAsync());
        Assert.All(fromLatest, m => Assert.StartsWith("after", Text(m)));
        var fromEarliest = await Eventually.CollectAsync(earliest.ReadAllAsync(), r => r.Count >= 30, onEach: m => m.AckAsync());
        Assert.Equal(20, fromEarliest.Count(m => Text(m).StartsWith("before", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task CompetingConsumers_ShareTheGroupsMessages_EachDeliveredOnce()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 4 });
        // Round-robin: the 100 messages must reach every partition, so that both members have some (sticky sends a
        // burst this small to one partition).
        await using var producer = Client.CreateProducer(topic, new ProducerOptions { UnkeyedPartitioning = UnkeyedPartitioning.RoundRobin });
        var sent = await SendAsync(producer, 100);

        // A holds its prefetch limit of 5 without acknowledging; everything else must go to B.
        var options = new ConsumerOptions { MaxPrefetch = 5, AckTimeout = NoExpiry.AckTimeout };
        await using var holder = Client.CreateConsumer(topic, "workers", options);
        var held = await Eventually.CollectAsync(holder.ReadAllAsync(), r => r.Count >= 5);
        await using var worker = Client.CreateConsumer(topic, "workers", options);
        var worked = await Eventually.CollectAsync(worker.ReadAllAsync(), r => r.Count >= 95, onEach: m => m.AckAsync());
        foreach (var message in held) await message.AckAsync();

        var all = held.Concat(worked).ToList();
        Assert.Equal(100, all.Count);
        Assert.Equal(sent.Keys.Order(), all.Select(Text).Order()); // no duplicates, nothing missing
        Assert.All(all, m => Assert.Equal(1, m.DeliveryAttempt));
    }

    [Fact]
    public async Task SameKey_ArrivesInTheOrderItWasConfirmed()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 4 });
        await using var producer = Client.CreateProducer(topic);
        // Sent concurrently: the confirmed offsets define the order.
        var sends = Enumerable.Range(0, 400).Select(i => producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"{i}")) { Key = $"key-{i % 7}" })).ToList();
        var receipts = await Task.WhenAll(sends);

        await using var consumer = Client.CreateConsumer(topic, "ordered", NoExpiry);
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 400, onEach: m => m.AckAsync());

        for (int k = 0; k < 7; k++)
        {
            var confirmedOrder = receipts.Select((r, i) => (r, i)).Where(x => x.i % 7 == k).OrderBy(x => x.r.Offset).Select(x => $"{x.i}");
            Assert.Equal(confirmedOrder, received.Where(m => m.Key == $"key-{k}").Select(Text));
        }
    }

    [Fact]
    public async Task Unacknowledged_IsRedeliveredAfterItsLease_WithTheAttemptRaised()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using var producer = Client.CreateProducer(topic);
        await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes("slow")));

        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = TimeSpan.FromSeconds(1) });
        var deliveries = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 2);

        Assert.Equal(deliveries[0].Offset, deliveries[1].Offset);
        Assert.Equal(1, deliveries[0].DeliveryAttempt);
        Assert.Equal(2, deliveries[1].DeliveryAttempt);
        await deliveries[1].AckAsync();
    }

    [Fact]
    public async Task Nack_RedeliversAtOnce()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using var producer = Client.CreateProducer(topic);
        await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes("retry me")));

        await using var consumer = Client.CreateConsumer(topic, "g", NoExpiry);
        var deliveries = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 2,
            timeout: TimeSpan.FromSeconds(60), onEach: m => m.DeliveryAttempt == 1 ? m.NackAsync() : m.AckAsync());

        Assert.Equal([1, 2], deliveries.Select(d => d.DeliveryAttempt));
    }

    [Fact]
    public async Task ConsumerDisposedWithoutAcking_ItsMessagesGoToAnotherMember()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });
        await using var producer = Client.CreateProducer(topic);
        var sent = await SendAsync(producer, 10);
        var options = NoExpiry;

        var first = Client.CreateConsumer(topic, "g", options);
        var abandoned = await Eventually.CollectAsync(first.ReadAllAsync(), r => r.Count >= 10);
        await first.DisposeAsync();

        await using var second = Client.CreateConsumer(topic, "g", options);
        var taken = await Eventually.CollectAsync(second.ReadAllAsync(), r => r.Count >= 10, onEach: m => m.AckAsync());
        Assert.Equal(sent.Keys.Order(), taken.Select(Text).Order());
        Assert.All(taken, m => Assert.Equal(2, m.DeliveryAttempt));
    }

    [Fact]
    public async Task CursorDeactivatedWithAnUnackedDelivery_ComesBackAndRedeliversIt_WithTheAttemptRaised()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using var producer = Client.CreateProducer(topic);
        await SendAsync(producer, 3);
        await using var holder = Client.CreateConsumer(topic, "g", NoExpiry);
        var held = await Eventually.CollectAsync(holder.ReadAllAsync(), r => r.Count >= 3);
        await held[0].AckConfirmedAsync(); // taken before the deactivation below

        // The grain loses its leases with its memory; what it saved (acks, attempts) must bring the rest back.
        var cursor = fixture.Cluster.SiloGrainFactory().GetGrain<IPartitionCursorGrain>($"{topic}/g/0");
        await fixture.Cluster.DeactivateAsync(cursor);

        // The holder is still a member with free prefetch, so the redeliveries come to it.
        var again = await Eventually.CollectAsync(holder.ReadAllAsync(), r => r.Count >= 2, onEach: m => m.AckAsync());
        Assert.Equal(held.Skip(1).Select(Text).Order(), again.Select(Text).Order());
        Assert.All(again, m => Assert.Equal(2, m.DeliveryAttempt));
        await holder.FlushAcksAsync(); // AckAsync only queues: the committed offset is read once the broker has the acks
        Assert.Equal(3, (await cursor.DescribeAsync()).CommittedOffset);
    }

    [Fact]
    public async Task TwoSilos_PartitionsSpreadOverBoth_AndAllMessagesFlow()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 4 });
        await using var producer = Client.CreateProducer(topic);
        var sent = await SendAsync(producer, 400);

        var description = await Client.Admin.DescribeTopicAsync(topic);
        Assert.Equal(2, description.PartitionDetails.Select(p => p.Silo).Distinct().Count());
        Assert.Equal(400, description.PartitionDetails.Sum(p => p.EndOffset - p.StartOffset));
        await using var consumer = Client.CreateConsumer(topic, "g", NoExpiry);
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 400, onEach: m => m.AckAsync());
        Assert.Equal(sent.Keys.Order(), received.Select(Text).Order());
    }

    [Fact]
    public async Task ConfirmStyles_AwaitEach_FlushMany_AndCallbacks_AllConfirm()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });
        await using var producer = Client.CreateProducer(topic, new ProducerOptions { LingerMs = 5 });

        var awaited = await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes("one")));
        var many = Enumerable.Range(0, 50).Select(i => producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"m{i}")))).ToList();
        await producer.FlushAsync();
        Assert.All(many, t => Assert.True(t.IsCompletedSuccessfully));
        var callbacks = new System.Collections.Concurrent.ConcurrentBag<SendReceipt>();
        for (int i = 0; i < 20; i++)
            producer.Send(new OutgoingMessage(Encoding.UTF8.GetBytes($"c{i}")), (receipt, error) => { Assert.Null(error); callbacks.Add(receipt!); });
        await producer.FlushAsync();

        Assert.Equal(topic, awaited.Topic);
        await Eventually.UntilAsync(() => callbacks.Count == 20);
        var offsets = many.Select(t => (t.Result.Partition, t.Result.Offset)).Concat(callbacks.Select(r => (r.Partition, r.Offset))).ToList();
        Assert.Equal(offsets.Count, offsets.Distinct().Count());
    }

    internal static async Task<Dictionary<string, SendReceipt>> SendAsync(GranaryProducer producer, int count, string prefix = "m")
    {
        var sends = Enumerable.Range(0, count).Select(i => (Text: $"{prefix}-{i}", Task: producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"{prefix}-{i}"))))).ToList();
        await Task.WhenAll(sends.Select(s => s.Task));
        return sends.ToDictionary(s => s.Text, s => s.Task.Result);
    }

    internal static string Text(ReceivedMessage message) => Encoding.UTF8.GetString(message.Payload.Span);
}
