namespace Granary.Tests.Broker;

/// <summary>
/// A consumer whose join failed for a cause that passes (here a timeout, as when the silo holding the group is killed
/// under the call) joins again on its next start or read. It used to keep the failed join: every later read failed at
/// once and the consumer never received again (the cluster verify run with silo kills then read nothing at all).
/// </summary>
[Trait("Category", "Integration")]
public sealed class ConsumerJoinRetryTests
{
    [Fact]
    public async Task AJoinThatTimedOut_IsMadeAgainByTheNextRead_AndTheConsumerReceives()
    {
        int failJoins = 1;
        await using var silo = await OneSiloCluster.StartAsync(client: client => client.AddOutgoingGrainCallFilter(context =>
        {
            if (context.InterfaceMethod?.Name == nameof(IConsumerGroupGrain.JoinAsync) && Interlocked.Exchange(ref failJoins, 0) == 1)
                throw new TimeoutException("the silo holding the group did not answer (test)");
            return context.Invoke();
        }));
        string topic = BrokerClusterFixture.UniqueTopic("join");
        await silo.Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 1 });
        await using (var producer = silo.Client.CreateProducer(topic))
            await producer.SendAsync(new OutgoingMessage("after a failed join"u8.ToArray()));

        await using var consumer = silo.Client.CreateConsumer(topic, "g", new ConsumerOptions { PollWait = TimeSpan.FromMilliseconds(200) });
        var error = await Assert.ThrowsAsync<GranaryException>(() => consumer.StartAsync());
        Assert.Equal(GranaryErrorCode.Timeout, error.Code);
        Assert.True(error.IsRetriable);

        // The same consumer, read again: it joins now and gets the message.
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync());
        Assert.Equal("after a failed join", Encoding.UTF8.GetString(received[0].Payload.Span));
    }

    [Fact]
    public async Task AJoinRefusedForGood_StaysFailed()
    {
        await using var silo = await OneSiloCluster.StartAsync();
        string topic = BrokerClusterFixture.UniqueTopic("join");
        await silo.Client.Admin.CreateTopicAsync(topic);
        await using var ordered = silo.Client.CreateConsumer(topic, "g", new ConsumerOptions { Mode = DeliveryMode.Ordered });
        await ordered.StartAsync();
        await using var shared = silo.Client.CreateConsumer(topic, "g", new ConsumerOptions { Mode = DeliveryMode.Shared });

        var first = await Assert.ThrowsAsync<GranaryException>(() => shared.StartAsync());
        Assert.Equal(GranaryErrorCode.InvalidArgument, first.Code);
        // Not retriable: the next start reports the same failure without asking the broker again.
        var second = await Assert.ThrowsAsync<GranaryException>(() => shared.StartAsync());
        Assert.Same(first, second);
    }
}
