namespace Granary.Tests.Broker;

/// <summary>Where a producer sends messages: sticky for unkeyed ones by default, by key, by message id, or as asked.</summary>
[Collection(BrokerCluster.Name)]
public sealed class ProducerPartitioningTests(BrokerClusterFixture fixture)
{
    private GranaryClient Client => fixture.Client;

    [Fact]
    public async Task ByDefault_UnkeyedMessagesSentTogether_StayOnOnePartition_AsOneBatchRatherThanFour()
    {
        string topic = await TopicAsync();
        await using var producer = Client.CreateProducer(topic);

        // 50 small messages are far below the 16 KiB share of one partition.
        var receipts = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => producer.SendAsync(new OutgoingMessage(new byte[20]))));

        Assert.Single(receipts.Select(r => r.Partition).Distinct());
    }

    [Fact]
    public async Task ByDefault_UnkeyedMessages_SpreadEvenlyOverEveryPartition_ShareByShare()
    {
        string topic = await TopicAsync();
        await using var producer = Client.CreateProducer(topic, new ProducerOptions { StickyPartitionBytes = 4000 });

        // 1,000-byte payloads (a little more with their overhead): four fill a 4,000-byte share, so 64 messages are four rounds over the four partitions.
        var receipts = new List<SendReceipt>();
        for (int i = 0; i < 64; i++) receipts.Add(await producer.SendAsync(new OutgoingMessage(new byte[1000])));

        var perPartition = receipts.GroupBy(r => r.Partition).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(4, perPartition.Count);
        Assert.All(perPartition.Values, count => Assert.Equal(16, count));
        // Runs of one partition, not alternation: the partition changes only every few messages.
        int changes = receipts.Zip(receipts.Skip(1)).Count(pair => pair.First.Partition != pair.Second.Partition);
        Assert.InRange(changes, 15, 16);
    }

    [Fact]
    public async Task RoundRobin_StillAvailable_MovesOnEveryMessage()
    {
        string topic = await TopicAsync();
        await using var producer = Client.CreateProducer(topic, new ProducerOptions { UnkeyedPartitioning = UnkeyedPartitioning.RoundRobin });

        var receipts = new List<SendReceipt>();
        for (int i = 0; i < 8; i++) receipts.Add(await producer.SendAsync(new OutgoingMessage(new byte[20])));

        Assert.All(receipts.Zip(receipts.Skip(1)), pair => Assert.Equal((pair.First.Partition + 1) % 4, pair.Second.Partition));
    }

    [Fact]
    public async Task KeyedMessagesAndMessageIds_GoWhereTheirHashSends_WhateverThePartitioning()
    {
        string topic = await TopicAsync();
        await using var sticky = Client.CreateProducer(topic);
        await using var roundRobin = Client.CreateProducer(topic, new ProducerOptions { UnkeyedPartitioning = UnkeyedPartitioning.RoundRobin });
        var keys = Enumerable.Range(0, 24).Select(i => $"key-{i}").ToArray();

        var bySticky = await Task.WhenAll(keys.Select(k => sticky.SendAsync(new OutgoingMessage("x"u8.ToArray()) { Key = k })));
        var byRoundRobin = await Task.WhenAll(keys.Select(k => roundRobin.SendAsync(new OutgoingMessage("x"u8.ToArray()) { Key = k })));
        var idsSticky = await Task.WhenAll(keys.Select(k => sticky.SendAsync(new OutgoingMessage("x"u8.ToArray()) { MessageId = $"id-{k}" })));
        var idsRoundRobin = await Task.WhenAll(keys.Select(k => roundRobin.SendAsync(new OutgoingMessage("y"u8.ToArray()) { MessageId = $"id2-{k}" })));

        Assert.Equal(bySticky.Select(r => r.Partition), byRoundRobin.Select(r => r.Partition));
        Assert.True(bySticky.Select(r => r.Partition).Distinct().Count() > 1, "24 keys all hashed to one partition");
        Assert.True(idsSticky.Select(r => r.Partition).Distinct().Count() > 1, "sticky routing took over messages with an id");
        Assert.True(idsRoundRobin.Select(r => r.Partition).Distinct().Count() > 1);
    }

    [Fact]
    public async Task AnExplicitPartition_IsHonoured_AndDoesNotMoveTheStickyPartition()
    {
        string topic = await TopicAsync();
        await using var producer = Client.CreateProducer(topic);

        var first = await producer.SendAsync(new OutgoingMessage(new byte[20]));
        int other = (first.Partition + 2) % 4;
        var asked = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => producer.SendAsync(new OutgoingMessage(new byte[20]) { Partition = other })));
        var next = await producer.SendAsync(new OutgoingMessage(new byte[20]));

        Assert.All(asked, r => Assert.Equal(other, r.Partition));
        Assert.Equal(first.Partition, next.Partition);
    }

    private async Task<string> TopicAsync()
    {
        string topic = BrokerClusterFixture.UniqueTopic("partitioning");
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 4 });
        return topic;
    }
}
