namespace Granary.Tests.Broker;

/// <summary>An Ordered partition that moves to a new member while the old one still works on it.</summary>
[Collection(BrokerCluster.Name)]
public sealed class OrderedHandoverTests(BrokerClusterFixture fixture)
{
    private static readonly TimeSpan NoExpiry = ClientTestExtensions.NoExpiry;

    [Fact]
    public async Task TheNewOwnerStartsWhenTheOldOneHasFinished_WithNoMessageHandledTwice()
    {
        var (group, cursor, heldByA) = await HandOverAsync(messages: 10, heldByA: 5);
        var assignment = (await group.DescribeAsync()).Assignment;
        Assert.Equal("a", assignment[0]); // sticky: a keeps one partition, b takes the other
        Assert.Equal("b", assignment[1]);

        // b waits while a still holds leases on the partition; a is no longer given anything there.
        Assert.Empty(await cursor.PullDecodedAsync("b", 5, NoExpiry, TimeSpan.FromSeconds(1)));
        Assert.Empty(await cursor.PullDecodedAsync("a", 5, NoExpiry, TimeSpan.FromMilliseconds(200)));
        var waiting = cursor.PullDecodedAsync("b", 5, NoExpiry, TimeSpan.FromSeconds(20));
        await cursor.AckAsync("a", [.. heldByA.Select(d => d.Ref)]);

        var taken = await waiting;
        Assert.Equal([5L, 6, 7, 8, 9], taken.Select(d => d.Message.Offset));
        Assert.All(taken, d => Assert.Equal(1, d.Attempt));
    }

    /// <summary>
    /// An Ordered group on a 2-partition topic with <paramref name="messages"/> on partition 1: member "a" leases the
    /// first <paramref name="heldByA"/> of them, then "b" joins (and takes partition 1 over).
    /// </summary>
    private async Task<(IConsumerGroupGrain Group, IPartitionCursorGrain Cursor, Delivery[] HeldByA)> HandOverAsync(int messages, int heldByA)
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await fixture.Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });
        await using (var producer = fixture.Client.CreateProducer(topic))
        {
            for (int i = 0; i < messages; i++) await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"{i}")) { Partition = 1 });
        }
        var grains = fixture.Cluster.SiloGrainFactory();
        var group = grains.GetGrain<IConsumerGroupGrain>($"{topic}/g");
        var settings = new GroupSettings { Mode = DeliveryMode.Ordered };
        await group.JoinAsync("a", settings);
        var cursor = grains.GetGrain<IPartitionCursorGrain>($"{topic}/g/1");
        var held = await cursor.PullDecodedAsync("a", heldByA, NoExpiry, TimeSpan.FromSeconds(10));
        Assert.Equal(heldByA, held.Length);
        await group.JoinAsync("b", settings);
        // Neither member heartbeats on its own: a's session (15 s) restarts here so that it outlasts the test.
        Assert.True((await group.HeartbeatAsync("a")).IsMember);
        return (group, cursor, held);
    }
}
