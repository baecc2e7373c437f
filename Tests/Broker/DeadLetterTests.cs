namespace Granary.Tests.Broker;

/// <summary>Poison messages, dead-letter topics with their headers, redrive, reject, nack delays and lease extension.</summary>
[Collection(BrokerCluster.Name)]
public sealed class DeadLetterTests(BrokerClusterFixture fixture)
{
    private static readonly TimeSpan NoExpiry = ClientTestExtensions.NoExpiry;

    private GranaryClient Client => fixture.Client;

    [Fact]
    public async Task APoisonMessage_GoesToTheDeadLetterTopic_AfterExactlyMaxDeliveries_WithItsStory_AndRedriveBringsItBackToThatGroupOnly()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });
        // Another group reads the same topic: the redrive must not reach it.
        await using var other = Client.CreateConsumer(topic, "other", new ConsumerOptions { AckTimeout = NoExpiry });
        await other.StartAsync();
        await using var producer = Client.CreateProducer(topic);
        var poison = await producer.SendAsync(new OutgoingMessage("poison"u8.ToArray()) { Key = "k", Headers = new Dictionary<string, byte[]> { ["app"] = "1"u8.ToArray() } });
        await producer.SendAsync(new OutgoingMessage("fine"u8.ToArray()) { Key = "k" });

        var attempts = new List<int>();
        await using (var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { MaxDeliveries = 3, AckTimeout = NoExpiry }))
        {
            var fine = false;
            var readTask = Eventually.CollectAsync(consumer.ReadAllAsync(), _ => fine && attempts.Count == 3, onEach: async m =>
            {
                if (MessagingTests.Text(m) == "poison")
                {
                    attempts.Add(m.DeliveryAttempt);
                    await m.NackAsync();
                }
                else
                {
                    fine = true;
                    await m.AckAsync();
                }
            });
            await readTask;
            // The dead letter is written once the third nack arrives; then the group is done with the partition.
            await Eventually.UntilAsync(async () => (await Client.Admin.GetLagAsync(topic, "g")).Partitions.Sum(p => p.DeadLettered) == 1);
            Assert.Equal([1, 2, 3], attempts);
        }

        await using var dlq = Client.CreateConsumer($"{topic}.g.dlq", "inspect", new ConsumerOptions { AckTimeout = NoExpiry });
        var letter = Assert.Single(await Eventually.CollectAsync(dlq.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync()));
        Assert.Equal("poison", MessagingTests.Text(letter));
        Assert.Equal("k", letter.Key);
        Assert.Equal("1"u8.ToArray(), letter.Headers["app"]);
        Assert.Equal("max-deliveries", Header(letter, GranaryHeaders.DeadLetterReason));
        Assert.Equal("3", Header(letter, GranaryHeaders.DeadLetterAttempts));
        Assert.Equal(topic, Header(letter, GranaryHeaders.SourceTopic));
        Assert.Equal($"{poison.Partition}", Header(letter, GranaryHeaders.SourcePartition));
        Assert.Equal($"{poison.Offset}", Header(letter, GranaryHeaders.SourceOffset));
        Assert.Equal("g", Header(letter, GranaryHeaders.SourceGroup));
        var lag = await Client.Admin.GetLagAsync(topic, "g");
        Assert.Equal(0, lag.TotalLag);

        Assert.Equal(1, await Client.Admin.RedriveAsync(topic, "g"));

        await using var again = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry });
        var redriven = Assert.Single(await Eventually.CollectAsync(again.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync()));
        Assert.Equal("poison", MessagingTests.Text(redriven));
        Assert.Equal(poison.Partition, redriven.Partition);
        Assert.Equal(1, redriven.DeliveryAttempt);
        Assert.False(redriven.Headers.ContainsKey(GranaryHeaders.DeadLetterReason));
        // The other group sees the two originals and then nothing: its cursor passes over the redriven copy.
        var seenByOther = await Eventually.CollectAsync(other.ReadAllAsync(), r => r.Count >= 2, onEach: m => m.AckAsync());
        Assert.Equal(["fine", "poison"], seenByOther.Select(MessagingTests.Text).Order());
        await Eventually.UntilAsync(async () => (await Client.Admin.GetLagAsync(topic, "other")).TotalLag == 0);
    }

    [Fact]
    public async Task Reject_SendsTheMessageToTheDeadLetterTopicAtOnce()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using var producer = Client.CreateProducer(topic);
        await producer.SendAsync(new OutgoingMessage("bad"u8.ToArray()));
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry, DeadLetterTopic = $"{topic}-parking" });
        var message = Assert.Single(await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1));
        await message.RejectAsync();
        await Eventually.UntilAsync(() => Client.TopicExistsAsync($"{topic}-parking"));

        await using var dlq = Client.CreateConsumer($"{topic}-parking", "inspect", new ConsumerOptions { AckTimeout = NoExpiry });
        var letter = Assert.Single(await Eventually.CollectAsync(dlq.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync()));
        Assert.Equal("rejected", Header(letter, GranaryHeaders.DeadLetterReason));
        Assert.Equal("1", Header(letter, GranaryHeaders.DeadLetterAttempts));
    }

    [Fact]
    public async Task ListingAGroupsDeadLetters_InATopicSharedWithANoisierGroup_LooksPastTheOtherGroupsLetters()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        string shared = $"{topic}-parking";
        await Client.Admin.CreateTopicAsync(topic);
        await using (var producer = Client.CreateProducer(topic))
            await Task.WhenAll(Enumerable.Range(0, 120).Select(i => producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"m{i}")))));

        // The noisy group rejects everything first: the shared topic's first 120 letters are its own.
        await using (var noisy = Client.CreateConsumer(topic, "noisy", new ConsumerOptions { AckTimeout = NoExpiry, DeadLetterTopic = shared }))
            await Eventually.CollectAsync(noisy.ReadAllAsync(), r => r.Count >= 120, onEach: m => m.RejectAsync());
        await Eventually.UntilAsync(async () => (await Client.Admin.ListDeadLettersAsync(topic, "noisy", limit: 1000)).Length == 120);

        await using var quiet = Client.CreateConsumer(topic, "quiet", new ConsumerOptions { AckTimeout = NoExpiry, DeadLetterTopic = shared });
        await Eventually.CollectAsync(quiet.ReadAllAsync(), r => r.Count >= 120,
            onEach: m => MessagingTests.Text(m) is "m7" or "m8" or "m9" ? m.RejectAsync() : m.AckAsync());

        // A first page of 10 would hold only the noisy group's letters; the listing reads on until it finds the quiet ones.
        DeadLetter[] letters = [];
        await Eventually.UntilAsync(async () => (letters = await Client.Admin.ListDeadLettersAsync(topic, "quiet", limit: 10)).Length == 3);
        Assert.Equal(["m7", "m8", "m9"], letters.Select(l => Encoding.UTF8.GetString(l.Message.Payload.Span)).Order());
        Assert.All(letters, l => Assert.True(l.Offset >= 120));
    }

    [Fact]
    public async Task NackWithDelay_RedeliversNoSoonerThanTheDelay()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using var producer = Client.CreateProducer(topic);
        await producer.SendAsync(new OutgoingMessage("retry-me"u8.ToArray()));
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry });

        DateTimeOffset nackedAt = default;
        var deliveries = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 2, onEach: async m =>
        {
            if (m.DeliveryAttempt == 1)
            {
                nackedAt = DateTimeOffset.UtcNow;
                await m.NackAsync(TimeSpan.FromSeconds(2));
            }
            else
            {
                await m.AckAsync();
            }
        });
        var redeliveredAt = DateTimeOffset.UtcNow;
        Assert.Equal(2, deliveries[1].DeliveryAttempt);
        Assert.True(redeliveredAt - nackedAt >= TimeSpan.FromSeconds(1.9), $"redelivered after {redeliveredAt - nackedAt}");
    }

    [Fact]
    public async Task ExtendLeaseThroughTheSdk_MovesTheLeaseEnd()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using var producer = Client.CreateProducer(topic);
        await producer.SendAsync(new OutgoingMessage("x"u8.ToArray()));
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = TimeSpan.FromSeconds(30) });
        var message = Assert.Single(await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1));

        Assert.True(await message.ExtendLeaseAsync(TimeSpan.FromMinutes(5)));
        Assert.True(message.LeaseExpiresAt > DateTimeOffset.UtcNow + TimeSpan.FromMinutes(4));
        await message.AckAsync();
        Assert.False(await message.ExtendLeaseAsync(TimeSpan.FromMinutes(5))); // acked: nothing left to extend
    }

    internal static string? Header(ReceivedMessage message, string name) =>
        message.Headers.TryGetValue(name, out var value) ? Encoding.UTF8.GetString(value) : null;
}
