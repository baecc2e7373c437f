using Microsoft.Extensions.DependencyInjection;

namespace Granary.Tests.Broker;

/// <summary>Group membership edge cases and producer flush/dispose guarantees.</summary>
[Collection(BrokerCluster.Name)]
public sealed class MembershipAndProducerTests(BrokerClusterFixture fixture)
{
    private GranaryClient Client => fixture.Client;
    private IGrainFactory Grains => fixture.Cluster.SiloGrainFactory();

    [Fact]
    public async Task MemberDroppedByItsGroup_JoinsAgainUnderANewId_AndReceivesAgain()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using var producer = Client.CreateProducer(topic);
        await producer.SendAsync(new OutgoingMessage("first"u8.ToArray()));
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(200) });
        var first = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1);
        await first[0].AckAsync();
        string dropped = consumer.MemberId;

        await Grains.GetGrain<IConsumerGroupGrain>($"{topic}/g").LeaveAsync(dropped); // what a missed session does
        await producer.SendAsync(new OutgoingMessage("second"u8.ToArray()));

        var second = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1);
        Assert.Equal("second", Encoding.UTF8.GetString(second[0].Payload.Span));
        Assert.NotEqual(dropped, consumer.MemberId);
        var refused = await Assert.ThrowsAsync<GranaryException>(() =>
            Grains.GetGrain<IPartitionCursorGrain>($"{topic}/g/0").PullDecodedAsync(dropped, 1, TimeSpan.FromSeconds(30), TimeSpan.Zero));
        Assert.Equal(GranaryErrorCode.NotAMember, refused.Code);
    }

    [Fact]
    public async Task LateNack_DoesNotEndAnotherMembersLease()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using (var producer = Client.CreateProducer(topic))
            await producer.SendAsync(new OutgoingMessage("x"u8.ToArray()));
        var cursor = Grains.GetGrain<IPartitionCursorGrain>($"{topic}/g/0");

        var a = await cursor.PullDecodedAsync("A", 1, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5));
        Assert.Single(a);
        Delivery[] b = [];
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (b.Length == 0 && DateTime.UtcNow < deadline) b = await cursor.PullDecodedAsync("B", 1, TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(1));
        Assert.Equal(2, Assert.Single(b).Attempt); // A's lease expired; B holds the message now

        await cursor.NackAsync("A", [a[0].Ref], TimeSpan.Zero); // A gives up, too late

        Assert.Empty(await cursor.PullDecodedAsync("C", 1, TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task DeletedTopic_LeavesNoCursorReminder_EvenWhenTheCursorWasNotActive()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using (var producer = Client.CreateProducer(topic))
            await producer.SendAsync(new OutgoingMessage("x"u8.ToArray()));
        await Grains.GetGrain<IConsumerGroupGrain>($"{topic}/g").JoinAsync("A", new GroupSettings());
        var cursor = Grains.GetGrain<IPartitionCursorGrain>($"{topic}/g/0");
        Assert.Single(await cursor.PullDecodedAsync("A", 1, TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(5)));
        var table = fixture.Cluster.GetSiloServiceProvider().GetRequiredService<IReminderTable>();
        var cursorId = GrainId.Create("granary.cursor", $"{topic}/g/0");
        await Eventually.UntilAsync(async () => (await table.ReadRows(cursorId)).Reminders.Count == 1);

        await fixture.Cluster.DeactivateAsync(cursor);
        await Client.Admin.DeleteTopicAsync(topic);

        Assert.Empty((await table.ReadRows(cursorId)).Reminders);
    }

    [Fact]
    public async Task Flush_CoversASendStillLookingUpTheTopic()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using var producer = Client.CreateProducer(topic);

        var send = producer.SendAsync(new OutgoingMessage("x"u8.ToArray()));
        await producer.FlushAsync();

        Assert.True(send.IsCompletedSuccessfully, "FlushAsync returned before the send was confirmed");
    }

    [Fact]
    public async Task Dispose_RightAfterASend_SendsIt_AndLaterSendsFailAsClosed()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        var producer = Client.CreateProducer(topic);

        var send = producer.SendAsync(new OutgoingMessage("x"u8.ToArray()));
        await producer.DisposeAsync();

        Assert.Equal(0, (await send).Offset);
        Assert.Equal(GranaryErrorCode.Closed, (await Assert.ThrowsAsync<GranaryException>(() => producer.SendAsync(new OutgoingMessage("late"u8.ToArray())))).Code);
    }

    [Fact]
    public async Task SmallMessagesBatchedWithAHugeOne_AreAllStored()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { MaxMessageBytes = 17 << 20 });
        await using var producer = Client.CreateProducer(topic, new ProducerOptions { LingerMs = 200 });

        var small = Enumerable.Range(0, 200).Select(_ => producer.SendAsync(new OutgoingMessage(new byte[1000]))).ToList();
        var huge = producer.SendAsync(new OutgoingMessage(new byte[17 << 20]));

        await Task.WhenAll(small);
        await huge;
    }
}
