using System.Collections.Concurrent;

namespace Granary.Tests.Broker;

/// <summary>Ordered and KeyShared delivery with several members, and what happens when one of them crashes.</summary>
[Collection(BrokerCluster.Name)]
public sealed class DeliveryModeTests(BrokerClusterFixture fixture)
{
    private static readonly TimeSpan NoExpiry = ClientTestExtensions.NoExpiry;

    private GranaryClient Client => fixture.Client;

    private IGrainFactory Grains => fixture.Cluster.SiloGrainFactory();

    [Fact]
    public async Task Ordered_EachPartitionHasOneMember_InOrder_AndACrashedMembersPartitionsMoveAfterTheSessionTimeout()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 4 });
        var settings = new GroupSettings { Mode = DeliveryMode.Ordered };
        var group = Grains.GetGrain<IConsumerGroupGrain>($"{topic}/g");
        // Sent first, so that nothing slow lies between the crashed member's join and its pulls (its session is 15 s).
        await using var producer = Client.CreateProducer(topic);
        for (int i = 0; i < 200; i++) await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"{i}")) { Key = $"k{i % 10}" });
        // A member that joins, takes messages and then goes silent: no heartbeat after its pulls, no ack, no leave (a crash).
        await group.JoinAsync("crashed", settings);
        var options = new ConsumerOptions { Mode = DeliveryMode.Ordered, AckTimeout = NoExpiry, MaxPrefetch = 16 };
        await using var first = Client.CreateConsumer(topic, "g", options);
        await using var second = Client.CreateConsumer(topic, "g", options);
        await first.StartAsync();
        await second.StartAsync();

        var description = await Client.Admin.DescribeGroupAsync(topic, "g");
        Assert.Equal(3, description.Members.Length);
        Assert.Equal(4, description.Assignment.Count);
        Assert.Equal(3, description.Assignment.Values.Distinct().Count());
        int[] crashedPartitions = [.. description.Assignment.Where(a => a.Value == "crashed").Select(a => a.Key)];
        Assert.NotEmpty(crashedPartitions);

        Assert.True((await group.HeartbeatAsync("crashed")).IsMember, "the crashed member's session ended before it pulled");
        var held = new List<Delivery>();
        foreach (int p in crashedPartitions)
        {
            var cursor = Grains.GetGrain<IPartitionCursorGrain>($"{topic}/g/{p}");
            held.AddRange(await cursor.PullDecodedAsync("crashed", 5, NoExpiry, TimeSpan.FromSeconds(10)));
        }
        Assert.NotEmpty(held);

        // Each member's deliveries per partition, in the order it saw them.
        var seen = new ConcurrentDictionary<(string Member, int Partition), List<(long Offset, int Attempt)>>();
        var done = new ConcurrentDictionary<long, byte>();
        var readers = new[] { first, second }.Select(consumer => Task.Run(async () =>
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            try
            {
                await foreach (var message in consumer.ReadAllAsync(stop.Token))
                {
                    var list = seen.GetOrAdd((consumer.MemberId, message.Partition), _ => []);
                    lock (list) list.Add((message.Offset, message.DeliveryAttempt));
                    done[(long)message.Partition << 32 | message.Offset] = 0;
                    await message.AckAsync();
                    if (done.Count == 200) return;
                }
            }
            catch (OperationCanceledException)
            {
            }
        })).ToList();
        await Eventually.UntilAsync(() => done.Count == 200, TimeSpan.FromSeconds(120));

        foreach (var ((_, partition), deliveries) in seen)
        {
            lock (deliveries) Assert.Equal(deliveries.Select(d => d.Offset).Order(), deliveries.Select(d => d.Offset));
        }
        // The crashed member's messages came back to a live member, as redeliveries, at the head of their partition.
        foreach (var delivery in held)
        {
            var redelivered = seen.Where(s => s.Key.Partition == delivery.Partition).SelectMany(s => s.Value).Single(d => d.Offset == delivery.Message.Offset);
            Assert.Equal(2, redelivered.Attempt);
        }
        var after = await Client.Admin.DescribeGroupAsync(topic, "g");
        Assert.DoesNotContain("crashed", after.Members);
        Assert.Equal(2, after.Assignment.Values.Distinct().Count());
    }

    [Fact]
    public async Task KeyShared_EachKeysMessagesArriveInOrder_AcrossMembers_AndACrashedMembersKeysWaitThenMoveOn()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        var settings = new GroupSettings { Mode = DeliveryMode.KeyShared };
        await using var producer = Client.CreateProducer(topic);
        for (int i = 0; i < 300; i++) await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"{i}")) { Key = $"k{i % 10}" });
        // The crashed member takes the first messages (of several keys) and never acks or heartbeats.
        var joinedAt = DateTime.UtcNow;
        await Grains.GetGrain<IConsumerGroupGrain>($"{topic}/g").JoinAsync("crashed", settings);
        var held = await Grains.GetGrain<IPartitionCursorGrain>($"{topic}/g/0").PullDecodedAsync("crashed", 5, NoExpiry, TimeSpan.FromSeconds(10));
        Assert.Equal(5, held.Length);
        var heldKeys = held.Select(d => Encoding.UTF8.GetString(d.Message.Key!)).ToHashSet();

        var options = new ConsumerOptions { Mode = DeliveryMode.KeyShared, AckTimeout = NoExpiry, MaxPrefetch = 8 };
        var log = new ConcurrentQueue<(string Key, int Sequence, string Member, DateTime At)>();
        var done = new ConcurrentDictionary<int, byte>();
        var consumers = Enumerable.Range(0, 3).Select(_ => Client.CreateConsumer(topic, "g", options)).ToList();
        var readers = consumers.Select(consumer => Task.Run(async () =>
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            try
            {
                await foreach (var message in consumer.ReadAllAsync(stop.Token))
                {
                    int sequence = int.Parse(MessagingTests.Text(message), System.Globalization.CultureInfo.InvariantCulture);
                    log.Enqueue((message.Key!, sequence, consumer.MemberId, DateTime.UtcNow));
                    done[sequence] = 0;
                    await message.AckAsync();
                    if (done.Count == 300) return;
                }
            }
            catch (OperationCanceledException)
            {
            }
        })).ToList();
        try
        {
            await Eventually.UntilAsync(() => done.Count == 300, TimeSpan.FromSeconds(120));
        }
        finally
        {
            foreach (var consumer in consumers) await consumer.DisposeAsync();
        }

        foreach (var key in log.GroupBy(l => l.Key))
        {
            var sequences = key.Select(l => l.Sequence).ToList();
            Assert.Equal(sequences.Order(), sequences); // in order, across however many members held the key
            Assert.Equal(sequences.Count, sequences.Distinct().Count());
        }
        // Keys the crashed member held waited for its session to end; other keys flowed meanwhile.
        var firstHeld = log.Where(l => heldKeys.Contains(l.Key)).Min(l => l.At);
        var firstFree = log.Where(l => !heldKeys.Contains(l.Key)).Min(l => l.At);
        Assert.True(firstHeld > firstFree);
        // The fixture's session timeout is 15 s, counted from the join (the member's last sign of life).
        Assert.True(firstHeld - joinedAt >= TimeSpan.FromSeconds(14.5), $"held keys came back {firstHeld - joinedAt} after the join, before the session timeout");
    }

    [Fact]
    public async Task AMemberAskingForAnotherMode_IsRefusedWhileOthersAreConnected()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using var ordered = Client.CreateConsumer(topic, "g", new ConsumerOptions { Mode = DeliveryMode.Ordered });
        await ordered.StartAsync();
        await using var shared = Client.CreateConsumer(topic, "g", new ConsumerOptions { Mode = DeliveryMode.Shared });

        var error = await Assert.ThrowsAsync<GranaryException>(() => shared.StartAsync());
        Assert.Equal(GranaryErrorCode.InvalidArgument, error.Code);
        Assert.Equal(DeliveryMode.Ordered, (await Client.Admin.DescribeGroupAsync(topic, "g")).Settings.Mode);
    }
}
