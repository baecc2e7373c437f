namespace Granary.Tests.Broker;

[Collection(BrokerCluster.Name)]
public sealed class MessageIdDedupTests(BrokerClusterFixture fixture)
{
    [Fact]
    public async Task SameIdTwice_IsStoredOnce_OnTheSamePartition_AndConsumedOnce()
    {
        string topic = BrokerClusterFixture.UniqueTopic("dedup");
        await fixture.Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 4, DedupWindow = TimeSpan.FromMinutes(10) });
        await using var producer = fixture.Client.CreateProducer(topic);

        var first = await producer.SendAsync(new OutgoingMessage("v1"u8.ToArray()) { MessageId = "order-1" });
        var second = await producer.SendAsync(new OutgoingMessage("v2"u8.ToArray()) { MessageId = "order-1" });
        var other = await producer.SendAsync(new OutgoingMessage("x"u8.ToArray()) { MessageId = "order-2" });

        Assert.False(first.IsDuplicate);
        Assert.True(second.IsDuplicate);
        Assert.False(other.IsDuplicate);
        Assert.Equal((first.Partition, first.Offset), (second.Partition, second.Offset));
        var description = await fixture.Client.Admin.DescribeTopicAsync(topic);
        Assert.Equal(2, description.PartitionDetails.Sum(p => p.EndOffset));

        await using var consumer = fixture.Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = TimeSpan.FromMinutes(10) });
        await producer.SendAsync(new OutgoingMessage("end"u8.ToArray()) { Partition = first.Partition });
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Any(m => MessagingTests.Text(m) == "end"), onEach: m => m.AckAsync());
        var copies = received.Where(m => m.MessageId == "order-1").ToList();
        Assert.Equal("v1", MessagingTests.Text(Assert.Single(copies)));
    }

    [Fact]
    public async Task SameIdTwiceInOneBatch_SecondPointsAtTheFirst_AndARedriveIsNeverADuplicate()
    {
        string topic = BrokerClusterFixture.UniqueTopic("dedup");
        await fixture.Client.Admin.CreateTopicAsync(topic, new TopicOptions { DedupWindow = TimeSpan.FromMinutes(10) });
        var partition = fixture.Cluster.SiloGrainFactory().GetGrain<IPartitionGrain>($"{topic}/0");

        var result = await partition.AppendAsync(new MessageBatch([WithId("a", "x"), WithId("b", "y"), WithId("c", "x"), WithId("d", "z")]));

        Assert.Equal([0L, 1, 0, 2], result.Offsets!);
        Assert.Equal([false, false, true, false], result.Duplicates!);
        Assert.Equal(3, (await partition.DescribeAsync()).EndOffset);

        var allRepeats = await partition.AppendAsync(new MessageBatch([WithId("e", "y"), WithId("f", "x")]));
        Assert.Equal([1L, 0], allRepeats.Offsets!);
        Assert.Equal([true, true], allRepeats.Duplicates!);

        var redrive = new MessageHeader(GranaryHeaders.RedriveGroup, "g"u8.ToArray());
        var redriven = await partition.AppendAsync(new MessageBatch([WithId("a", "x", redrive)]));
        Assert.Null(redriven.Duplicates);
        Assert.Equal(3, redriven.BaseOffset);
        Assert.Equal(4, (await partition.DescribeAsync()).EndOffset);
    }

    [Fact]
    public async Task AfterTheWindowPasses_ARepeatIsStoredAgain()
    {
        string topic = BrokerClusterFixture.UniqueTopic("dedup");
        await fixture.Client.Admin.CreateTopicAsync(topic, new TopicOptions { DedupWindow = TimeSpan.FromSeconds(1) });
        await using var producer = fixture.Client.CreateProducer(topic);
        var first = await producer.SendAsync(new OutgoingMessage("v1"u8.ToArray()) { MessageId = "id" });

        // Repeats are answered as duplicates until the window has passed; poll until one is stored.
        var deadline = DateTime.UtcNow + Eventually.DefaultTimeout;
        SendReceipt repeat;
        while ((repeat = await producer.SendAsync(new OutgoingMessage("again"u8.ToArray()) { MessageId = "id" })).IsDuplicate)
        {
            Assert.Equal(first.Offset, repeat.Offset);
            Assert.True(DateTime.UtcNow < deadline, "the repeat was still a duplicate at the deadline");
            await Task.Delay(50);
        }

        Assert.NotEqual(first.Offset, repeat.Offset);
        Assert.Equal(2, (await fixture.Cluster.SiloGrainFactory().GetGrain<IPartitionGrain>($"{topic}/0").DescribeAsync()).EndOffset);
    }

    [Fact]
    public async Task IdempotentRetryOfABatchWithDuplicates_ReturnsTheSameOffsets()
    {
        string topic = BrokerClusterFixture.UniqueTopic("dedup");
        await fixture.Client.Admin.CreateTopicAsync(topic, new TopicOptions { DedupWindow = TimeSpan.FromMinutes(10) });
        var partition = fixture.Cluster.SiloGrainFactory().GetGrain<IPartitionGrain>($"{topic}/0");
        await partition.AppendAsync(new MessageBatch([WithId("seen", "old")]));
        // Its last message is a duplicate: the sequence advances past what the log shows.
        var batch = new MessageBatch([WithId("n", "new"), WithId("o", "old")]) { ProducerId = 99, BaseSequence = 0 };

        var first = await partition.AppendAsync(batch);
        var retry = await partition.AppendAsync(batch);
        var next = await partition.AppendAsync(new MessageBatch([WithId("p", "next")]) { ProducerId = 99, BaseSequence = 2 });

        Assert.Equal([1L, 0], first.Offsets!);
        Assert.Equal(first.Offsets, retry.Offsets);
        Assert.Equal(first.Duplicates, retry.Duplicates);
        Assert.Equal(2, next.BaseOffset);
        Assert.Equal(3, (await partition.DescribeAsync()).EndOffset);
    }

    private static Message WithId(string payload, string id, params MessageHeader[] more) =>
        new(null, Encoding.UTF8.GetBytes(payload), [new MessageHeader(GranaryHeaders.MessageId, Encoding.UTF8.GetBytes(id)), .. more]);
}
