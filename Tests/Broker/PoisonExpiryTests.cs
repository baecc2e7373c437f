namespace Granary.Tests.Broker;

/// <summary>
/// Under the ordered modes the leases of one pull share one end. When a poison message hangs its handler past the
/// lease, the messages prefetched behind it (which the consumer never handed to its handler) run out in the same
/// tick: only the poison message's expiry counts as a delivery attempt, the others are take-backs, so the poison
/// message is dead-lettered alone (issue 16, item 7, on lease expiry).
/// </summary>
[Collection(BrokerCluster.Name)]
[Trait("Category", "Integration")]
public sealed class PoisonExpiryTests(BrokerClusterFixture fixture)
{
    private static readonly TimeSpan NoExpiry = ClientTestExtensions.NoExpiry;
    private static readonly TimeSpan ShortLease = TimeSpan.FromMilliseconds(500);
    private static readonly string[] Texts = ["poison", "ok-1", "ok-2", "ok-3"];

    private GranaryClient Client => fixture.Client;

    private IGrainFactory Grains => fixture.Cluster.SiloGrainFactory();

    [Theory]
    [InlineData(DeliveryMode.KeyShared)]
    [InlineData(DeliveryMode.Ordered)]
    public async Task LeasesOfOnePullExpiringTogether_CountOnlyForTheFirstOfTheKey_SoOnlyThePoisonMessageIsDeadLettered(DeliveryMode mode)
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using (var producer = Client.CreateProducer(topic))
        {
            foreach (string text in Texts) await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes(text)) { Key = "k" });
        }
        var group = Grains.GetGrain<IConsumerGroupGrain>($"{topic}/g");
        await group.JoinAsync("A", new GroupSettings { Mode = mode, MaxDeliveries = 3 });
        var cursor = Grains.GetGrain<IPartitionCursorGrain>($"{topic}/g/0");

        // A pulls all four in one pull and settles nothing (its handler hangs on the poison message); the leases run
        // out together, three times.
        for (int round = 1; round <= 3; round++)
        {
            var pulled = await PullUntilAnyAsync(group, cursor, ShortLease);
            Assert.Equal(Texts, pulled.Select(Text));
            Assert.Equal(round, pulled[0].Attempt);
            // Before the fix these counted too: attempt 2, then 3, then all four were dead-lettered.
            Assert.All(pulled.Skip(1), d => Assert.Equal(1, d.Attempt));
        }

        var healthy = await PullUntilAnyAsync(group, cursor, NoExpiry);
        Assert.Equal(Texts.Skip(1), healthy.Select(Text));
        Assert.All(healthy, d => Assert.Equal(1, d.Attempt));
        Assert.Empty(await cursor.AckAsync("A", [.. healthy.Select(d => d.Ref)]));

        await Eventually.UntilAsync(async () => (await Client.Admin.GetLagAsync(topic, "g")) is { TotalLag: 0 } lag
            && lag.Partitions.Sum(p => p.DeadLettered) == 1);
        string dlq = $"{topic}.g.dlq";
        Assert.Equal(1, (await Client.Admin.DescribeTopicAsync(dlq)).PartitionDetails.Sum(p => p.EndOffset - p.StartOffset));
        await using var inspect = Client.CreateConsumer(dlq, "inspect", new ConsumerOptions { AckTimeout = NoExpiry });
        var letter = Assert.Single(await Eventually.CollectAsync(inspect.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync()));
        Assert.Equal("poison", MessagingTests.Text(letter));
        Assert.Equal("3", Encoding.UTF8.GetString(letter.Headers[GranaryHeaders.DeadLetterAttempts]));
    }

    /// <summary>Pulls as A (keeping A's session alive) until something comes.</summary>
    private static async Task<Delivery[]> PullUntilAnyAsync(IConsumerGroupGrain group, IPartitionCursorGrain cursor, TimeSpan lease)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            Assert.True((await group.HeartbeatAsync("A")).IsMember);
            var pulled = await cursor.PullDecodedAsync("A", 10, lease, TimeSpan.FromSeconds(1));
            if (pulled.Length > 0) return pulled;
            Assert.True(DateTime.UtcNow < deadline, "nothing came before the deadline");
        }
    }

    private static string Text(Delivery delivery) => Encoding.UTF8.GetString(delivery.Message.Payload.Span);
}
