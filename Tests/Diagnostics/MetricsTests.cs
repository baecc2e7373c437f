using Granary.Grains.Diagnostics;

namespace Granary.Tests.Diagnostics;

/// <summary>
/// The Granary meter's instruments, read with a MeterListener while a real cluster produces and consumes. Each test
/// uses its own topic and looks only at measurements tagged with it (the listener sees the whole process).
/// </summary>
[Collection(BrokerCluster.Name)]
[Trait("Category", "Integration")]
public sealed class MetricsTests(BrokerClusterFixture fixture)
{
    private static readonly TimeSpan NoExpiry = ClientTestExtensions.NoExpiry;

    private GranaryClient Client => fixture.Client;

    private static OutgoingMessage[] Messages(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new OutgoingMessage(new byte[10 + i]) { Key = $"k{i % 3}" })];

    [Fact]
    public async Task Produce_CountsMessagesAndPayloadBytesIn_TaggedWithTheTopic_AndTimesTheAppends()
    {
        using var metrics = new MetricsRecorder();
        string topic = BrokerClusterFixture.UniqueTopic("metrics");
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });
        var messages = Messages(25);
        await using (var producer = Client.CreateProducer(topic))
            await Task.WhenAll(messages.Select(m => producer.SendAsync(m)));

        // Recorded before the partition answers the append, so complete once the sends are.
        Assert.Equal(25, metrics.Sum("granary.messages.in", topic));
        Assert.Equal(messages.Sum(m => m.Payload.Length), metrics.Sum("granary.bytes.in", topic));
        var appends = metrics.Of("granary.append.duration", topic).ToList();
        Assert.InRange(appends.Count, 1, 25); // one per batch, however the producer batched them
        Assert.All(appends, a => Assert.True(a.Value > 0 && a.Value < 60, $"append took {a.Value} s"));
        Assert.Equal(0, metrics.Sum("granary.publishes.rejected", topic));
    }

    [Fact]
    public async Task Consume_CountsMessagesAndPayloadBytesOut()
    {
        using var metrics = new MetricsRecorder();
        string topic = BrokerClusterFixture.UniqueTopic("metrics");
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });
        var messages = Messages(20);
        await using (var producer = Client.CreateProducer(topic))
            await Task.WhenAll(messages.Select(m => producer.SendAsync(m)));
        Assert.Equal(0, metrics.Sum("granary.messages.out", topic));

        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry });
        await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 20, onEach: m => m.AckAsync());

        // Counted by the cursor before it hands the pull's messages over; no lease expires, so nothing twice.
        Assert.Equal(20, metrics.Sum("granary.messages.out", topic));
        Assert.Equal(messages.Sum(m => m.Payload.Length), metrics.Sum("granary.bytes.out", topic));
        Assert.Equal(0, metrics.Sum("granary.redeliveries", topic));
    }

    [Fact]
    public async Task NackedPastMaxDeliveries_CountsRedeliveriesAndOneDeadLetter()
    {
        using var metrics = new MetricsRecorder();
        string topic = BrokerClusterFixture.UniqueTopic("metrics");
        await Client.Admin.CreateTopicAsync(topic);
        await using (var producer = Client.CreateProducer(topic))
            await producer.SendAsync(new OutgoingMessage("poison"u8.ToArray()));

        await using (var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { MaxDeliveries = 3, AckTimeout = NoExpiry }))
        {
            await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 3, onEach: m => m.NackAsync());
            await Eventually.UntilAsync(() => metrics.Sum("granary.dead_letters", topic) >= 1);
        }

        var letter = Assert.Single(metrics.Of("granary.dead_letters", topic));
        Assert.Equal(1, letter.Value);
        Assert.Equal("g", letter.Tags[GranaryMetrics.GroupTag]);
        Assert.Equal(GranaryHeaders.Reasons.MaxDeliveries, letter.Tags[GranaryMetrics.ReasonTag]);
        Assert.Equal(2, metrics.Sum("granary.redeliveries", topic)); // deliveries 2 and 3
        Assert.Equal(3, metrics.Sum("granary.messages.out", topic));
        // The letter itself is a message into the dead-letter topic.
        Assert.Equal(1, metrics.Sum("granary.messages.in", $"{topic}.g.dlq"));
    }

    [Fact]
    public async Task AnExpiredMessage_DroppedByItsTopic_CountsAnExpiration()
    {
        using var metrics = new MetricsRecorder();
        string topic = BrokerClusterFixture.UniqueTopic("metrics");
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { ExpiredMessages = ExpiredMessageAction.Drop });
        // A group with no consumer connected: the cursor watches the backlog and drops the message when it expires.
        await using (var joined = Client.CreateConsumer(topic, "g"))
            await joined.StartAsync();
        await using (var producer = Client.CreateProducer(topic))
            await producer.SendAsync(new OutgoingMessage("short"u8.ToArray()) { TimeToLive = TimeSpan.FromMilliseconds(300) });

        await Eventually.UntilAsync(() => metrics.Sum("granary.expirations", topic) >= 1);
        Assert.Equal(1, metrics.Sum("granary.expirations", topic));
        Assert.Equal(0, metrics.Sum("granary.dead_letters", topic));
    }

    [Fact]
    public async Task AnAppendThePartitionRefuses_CountsARejectedPublish_WithItsErrorCode()
    {
        using var metrics = new MetricsRecorder();
        string topic = BrokerClusterFixture.UniqueTopic("metrics");
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { MaxMessageBytes = 1024 });
        // Straight to the grain: the producer refuses an oversized message itself, before any partition sees it.
        var partition = fixture.Cluster.SiloGrainFactory().GetGrain<IPartitionGrain>($"{topic}/0");
        var tooLarge = new Message(null, new byte[2048], null);
        var error = await Assert.ThrowsAsync<GranaryException>(() => partition.AppendAsync(new MessageBatch([tooLarge, tooLarge])));
        Assert.Equal(GranaryErrorCode.MessageTooLarge, error.Code);

        var rejected = Assert.Single(metrics.Of("granary.publishes.rejected", topic));
        Assert.Equal(2, rejected.Value);
        Assert.Equal(nameof(GranaryErrorCode.MessageTooLarge), rejected.Tags[GranaryMetrics.ReasonTag]);
        Assert.Equal(0, metrics.Sum("granary.messages.in", topic));
    }

    [Fact]
    public async Task Appends_RecordFsyncDurations()
    {
        using var metrics = new MetricsRecorder();
        string topic = BrokerClusterFixture.UniqueTopic("metrics");
        await Client.Admin.CreateTopicAsync(topic);
        // FlushPolicy.Always (the default): a confirmed send has waited for an fsync that started after it was written.
        await using (var producer = Client.CreateProducer(topic))
            await producer.SendAsync(new OutgoingMessage("durable"u8.ToArray()));

        var fsyncs = metrics.Of("granary.fsync.duration").ToList();
        Assert.NotEmpty(fsyncs);
        Assert.All(fsyncs, f => Assert.Contains(f.Tags[GranaryMetrics.CallTag], new[] { "fdatasync", "syncfs" }));
        Assert.All(fsyncs, f => Assert.True(f.Value >= 0 && f.Value < 60, $"an fsync took {f.Value} s"));
    }

    [Fact]
    public async Task ConsumerLagGauge_ReportsUnacknowledgedMessages_AndFallsToZeroOnceAcked()
    {
        using var metrics = new MetricsRecorder();
        string topic = BrokerClusterFixture.UniqueTopic("metrics");
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });
        await using (var producer = Client.CreateProducer(topic))
            await Task.WhenAll(Messages(12).Select(m => producer.SendAsync(m)));

        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry });
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 12);
        // Delivered, not acknowledged: all twelve still count, as in the group's lag query.
        await Eventually.UntilAsync(() => metrics.ObservedLag(topic, "g") == 12);
        Assert.Equal(12, (await Client.Admin.GetLagAsync(topic, "g")).TotalLag);

        foreach (var message in received) await message.AckAsync();
        await Eventually.UntilAsync(() => metrics.ObservedLag(topic, "g") == 0);
        Assert.Null(metrics.ObservedLag(topic, "other"));
    }
}
