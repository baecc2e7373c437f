using System.Collections.Concurrent;

namespace Granary.Tests.Broker;

/// <summary>
/// Cheap acknowledgements (issue 19, item 5): <see cref="ReceivedMessage.AckAsync"/> queues the ack and the consumer
/// sends queued acks in batches, so <c>await message.AckAsync()</c> in a loop costs no round trip per message;
/// <see cref="ReceivedMessage.AckConfirmedAsync"/> and <see cref="GranaryConsumer.FlushAcksAsync"/> wait for the
/// broker; refusals of queued acks are reported; a queued ack that never reaches the broker leaves the message to come
/// again (at-least-once). End to end through the SDK against one silo whose client counts (and can hold) ack calls.
/// </summary>
[Trait("Category", "Integration")]
public sealed class AckBatchingTests(AckBatchingTests.Silo silo) : IClassFixture<AckBatchingTests.Silo>
{
    private GranaryClient Client => silo.Client;

    private static readonly ConsumerOptions LongLeases = new() { AckTimeout = TimeSpan.FromMinutes(5), MaxPrefetch = 512 };

    private async Task<string> TopicWithMessagesAsync(int partitions, int count)
    {
        string topic = BrokerClusterFixture.UniqueTopic("acks");
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = partitions });
        await using var producer = Client.CreateProducer(topic);
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"m{i}")) { Partition = i % partitions })));
        return topic;
    }

    [Fact]
    public async Task AwaitedAcksInALoop_GoOutInBatches_AndDisposeLeavesNothingToRedeliver()
    {
        const int Count = 400;
        string topic = await TopicWithMessagesAsync(partitions: 2, Count);
        var consumer = Client.CreateConsumer(topic, "g", LongLeases);

        // The Quickstart's loop: each ack awaited before the next message.
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= Count, onEach: async m => await m.AckAsync());
        await consumer.DisposeAsync();

        // Before: each awaited ack waited for its own broker call, 400 calls. Now the acks queued while one call was
        // on its way go out together with the next.
        int calls = silo.AckCalls.GetValueOrDefault(topic);
        Assert.True(calls <= Count / 4, $"{calls} ack calls for {Count} awaited acks");
        Assert.Equal(Count, received.Select(m => (m.Partition, m.Offset)).Distinct().Count());
        // Disposing sent every queued ack and waited for the answers: nothing is left to redeliver.
        var lag = await Client.Admin.GetLagAsync(topic, "g");
        Assert.Equal(0, lag.TotalLag);
        Assert.All(lag.Partitions, p => Assert.Equal(0, p.InFlight));
    }

    [Fact]
    public async Task FlushAcksAsync_ReturnsOnceTheBrokerHasTakenEveryQueuedAck()
    {
        const int Count = 200;
        string topic = await TopicWithMessagesAsync(partitions: 2, Count);
        await using var consumer = Client.CreateConsumer(topic, "g", LongLeases);
        await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= Count, onEach: m => m.AckAsync());

        await consumer.FlushAcksAsync();

        // Read at once, no waiting: the flush returned after the broker's answers.
        var lag = await Client.Admin.GetLagAsync(topic, "g");
        Assert.Equal(0, lag.TotalLag);
        Assert.All(lag.Partitions, p => Assert.Equal(Count / 2, p.CommittedOffset));
        Assert.Equal(0, consumer.FailedAcks);
    }

    [Fact]
    public async Task ConfirmedAckOfAStaleDelivery_ThrowsStaleDelivery_AndAQueuedOnesRefusalIsReportedOnce()
    {
        string topic = await TopicWithMessagesAsync(partitions: 1, count: 2);
        // Two credits: once it holds both messages the consumer pulls no more until one is settled.
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = TimeSpan.FromMinutes(5), MaxPrefetch = 2 });
        var failures = new ConcurrentQueue<AckFailedEventArgs>();
        consumer.AckFailed += (_, e) => failures.Enqueue(e);
        var held = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 2);
        // A seek drops the deliveries in flight: both leases are stale now.
        await Client.Admin.SeekAsync(topic, "g", SeekTarget.Earliest);

        var refused = await Assert.ThrowsAsync<GranaryException>(() => held[0].AckConfirmedAsync());
        Assert.Equal(ErrorCode.StaleDelivery, refused.Code);

        Assert.True(held[1].AckAsync().IsCompletedSuccessfully); // queued: the broker's answer is not waited for
        var flushed = await Assert.ThrowsAsync<GranaryException>(() => consumer.FlushAcksAsync());
        Assert.Equal(ErrorCode.StaleDelivery, flushed.Code);
        Assert.Contains($"0/{held[1].Offset}", flushed.Message, StringComparison.Ordinal);
        var failure = Assert.Single(failures);
        Assert.Same(held[1], failure.Message);
        Assert.Equal(ErrorCode.StaleDelivery, failure.Error.Code);
        Assert.Equal(1, consumer.FailedAcks);

        await consumer.FlushAcksAsync(); // reported once: the next flush has nothing to say
        Assert.Equal(0, (await Client.Admin.GetLagAsync(topic, "g")).Partitions[0].CommittedOffset); // neither ack changed anything
    }

    [Fact]
    public async Task AQueuedAckThatNeverReachesTheBroker_LeavesTheMessageToComeAgain()
    {
        string topic = await TopicWithMessagesAsync(partitions: 1, count: 1);
        // The client holds this topic's ack calls before they leave the process: to the broker it is as if the
        // consumer's process died with the ack still queued.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        silo.HeldAcks[topic] = gate.Task;
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = TimeSpan.FromSeconds(2), MaxPrefetch = 1 });
        try
        {
            var deliveries = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 2, onEach: async m =>
            {
                if (m.DeliveryAttempt == 1) await m.AckAsync(); // completes at once: queued
            });

            // At-least-once: the broker never got the ack, so the message came again when its lease ended.
            Assert.Equal(deliveries[0].Offset, deliveries[1].Offset);
            Assert.Equal([1, 2], deliveries.Select(m => m.DeliveryAttempt));
            gate.SetResult();
            // The held ack arrives after the redelivery: refused, and reported.
            var flushed = await Assert.ThrowsAsync<GranaryException>(() => consumer.FlushAcksAsync());
            Assert.Equal(ErrorCode.StaleDelivery, flushed.Code);
            await deliveries[1].AckConfirmedAsync();
            Assert.Equal(0, (await Client.Admin.GetLagAsync(topic, "g")).TotalLag);
        }
        finally
        {
            gate.TrySetResult();
        }
    }

    [Fact]
    public async Task RunAsync_WhenItReturns_TheBrokerHasTakenEveryAckOfItsHandlers()
    {
        const int Count = 100;
        string topic = await TopicWithMessagesAsync(partitions: 2, Count);
        await using var consumer = Client.CreateConsumer(topic, "g", LongLeases);
        using var done = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        int handled = 0;

        await consumer.RunAsync((_, _) =>
        {
            if (Interlocked.Increment(ref handled) == Count) done.Cancel();
            return Task.CompletedTask;
        }, new HandlerOptions { MaxConcurrency = 4 }, done.Token);

        Assert.Equal(Count, handled);
        // Read at once: handlers' acks are queued, and the run flushed them before returning.
        Assert.Equal(0, (await Client.Admin.GetLagAsync(topic, "g")).TotalLag);
    }

    /// <summary>One silo; its client counts ack calls per topic and holds those of the topics in <see cref="HeldAcks"/>.</summary>
    public sealed class Silo : IAsyncLifetime
    {
        private OneSiloCluster _silo = null!;

        public GranaryClient Client => _silo.Client;

        /// <summary>Ack calls that left the client, per topic.</summary>
        public ConcurrentDictionary<string, int> AckCalls { get; } = new();

        /// <summary>Topics whose ack calls wait for the task before they leave the client.</summary>
        public ConcurrentDictionary<string, Task> HeldAcks { get; } = new();

        public async ValueTask InitializeAsync()
        {
            _silo = await OneSiloCluster.StartAsync(
                granary: o => o.LeaseCheckInterval = TimeSpan.FromMilliseconds(100),
                client: client => client.AddOutgoingGrainCallFilter(async context =>
                {
                    if (context.InterfaceMethod?.Name == nameof(IPartitionCursorGrain.AckAsync))
                    {
                        string topic = context.TargetId.Key.ToString()!.Split('/')[0];
                        if (HeldAcks.TryGetValue(topic, out var gate)) await gate;
                        AckCalls.AddOrUpdate(topic, 1, (_, n) => n + 1);
                    }
                    await context.Invoke();
                }));
        }

        public ValueTask DisposeAsync() => _silo.DisposeAsync();
    }
}
