using System.Diagnostics;

namespace Granary.Tests.Client;

/// <summary>Every async call of the SDK takes a cancellation token and a cancelled one ends it (issue 20, item 4a).</summary>
[Collection(BrokerCluster.Name)]
[Trait("Category", "Integration")]
public sealed class CancellationTests(BrokerClusterFixture fixture)
{
    private GranaryClient Client => fixture.Client;

    private static CancellationToken Cancelled => new(canceled: true);

    [Fact]
    public async Task Admin_CancelledToken_EndsEveryCall()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        var admin = Client.Admin;
        var calls = new (string Name, Func<Task> Call)[]
        {
            ("CreateTopic", () => admin.CreateTopicAsync(BrokerClusterFixture.UniqueTopic(), null, Cancelled)),
            ("CreateTopicIfMissing", () => admin.CreateTopicIfMissingAsync(topic, null, Cancelled)),
            ("GetActiveSilos", () => admin.GetActiveSilosAsync(Cancelled)),
            ("DescribeTopic", () => admin.DescribeTopicAsync(topic, Cancelled)),
            ("ListTopics", () => admin.ListTopicsAsync(Cancelled)),
            ("DeleteTopic", () => admin.DeleteTopicAsync(topic, Cancelled)),
            ("AddPartitions", () => admin.AddPartitionsAsync(topic, 2, Cancelled)),
            ("AlterTopic", () => admin.AlterTopicAsync(topic, c => c, Cancelled)),
            ("ListGroups", () => admin.ListGroupsAsync(topic, Cancelled)),
            ("Seek", () => admin.SeekAsync(topic, "g", SeekTarget.Earliest, Cancelled)),
            ("GetLag", () => admin.GetLagAsync(topic, "g", Cancelled)),
            ("DescribeGroup", () => admin.DescribeGroupAsync(topic, "g", Cancelled)),
            ("Redrive", () => admin.RedriveAsync(topic, "g", 0, long.MaxValue, Cancelled)),
            ("ListDeadLetters", () => admin.ListDeadLettersAsync(topic, "g", 0, 100, Cancelled)),
            ("DescribeCluster", () => admin.DescribeClusterAsync(Cancelled)),
        };
        foreach (var (name, call) in calls)
        {
            var thrown = await Record.ExceptionAsync(call);
            Assert.True(thrown is OperationCanceledException, $"{name}: {thrown?.GetType().Name ?? "no exception"}");
        }
        // Nothing of it happened: the topic is still there with one partition.
        Assert.Equal(1, (await admin.DescribeTopicAsync(topic)).Config.Partitions);
    }

    [Fact]
    public async Task SendAsync_CancelledWhileWaitingForTheConfirmation_StopsWaiting_AndTheMessageIsStillWritten()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        // A long linger holds the batch back: the send is queued and waits for its confirmation for 30 s.
        await using var producer = Client.CreateProducer(topic, new ProducerOptions { LingerMs = 30_000 });
        using var cancel = new CancellationTokenSource();
        var send = producer.SendAsync(new OutgoingMessage("late"u8.ToArray()), cancel.Token);
        await Task.Yield();
        Assert.False(send.IsCompleted);
        var clock = Stopwatch.StartNew();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the cancelled send ended after {clock.Elapsed}");

        // Not taken back: the flush waits for it, and it is stored.
        await producer.FlushAsync();
        Assert.Equal(1, (await Client.Admin.DescribeTopicAsync(topic)).PartitionDetails.Sum(p => p.EndOffset));
    }

    [Fact]
    public async Task Consumer_CancelledToken_EndsStartSettleAndExtend_WithoutSettling()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using var producer = Client.CreateProducer(topic);
        await producer.SendAsync(new OutgoingMessage("m"u8.ToArray()));
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = ClientTestExtensions.NoExpiry, PollWait = TimeSpan.FromMilliseconds(200) });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => consumer.StartAsync(Cancelled));
        var message = Assert.Single(await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => message.AckAsync(Cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => message.AckConfirmedAsync(Cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => message.NackAsync(TimeSpan.Zero, Cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => message.RejectAsync(Cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => message.ExtendLeaseAsync(TimeSpan.FromMinutes(1), Cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => consumer.FlushAcksAsync(Cancelled));

        // None of them settled the message: it can still be acked, once.
        Assert.False(message.IsSettled);
        await message.AckConfirmedAsync();
        Assert.Equal(0, (await Client.Admin.GetLagAsync(topic, "g")).TotalLag);
    }
}
