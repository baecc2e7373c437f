using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

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
        Assert.Equal(GranaryErrorCode.StaleDelivery, refused.Code);

        Assert.True(held[1].AckAsync().IsCompletedSuccessfully); // queued: the broker's answer is not waited for
        var flushed = await Assert.ThrowsAsync<GranaryException>(() => consumer.FlushAcksAsync());
        Assert.Equal(GranaryErrorCode.StaleDelivery, flushed.Code);
        Assert.Contains($"0/{held[1].Offset}", flushed.Message, StringComparison.Ordinal);
        await Eventually.UntilAsync(() => !failures.IsEmpty); // raised off the settle loop, on the thread pool
        var failure = Assert.Single(failures);
        Assert.Same(held[1], failure.Message);
        Assert.Equal(GranaryErrorCode.StaleDelivery, failure.Error.Code);
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
            Assert.Equal(GranaryErrorCode.StaleDelivery, flushed.Code);
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

    private async Task<string> TopicWithLargeMessagesAsync(int count)
    {
        string topic = BrokerClusterFixture.UniqueTopic("acks");
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 1 });
        await using var producer = Client.CreateProducer(topic);
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => producer.SendAsync(new OutgoingMessage(new byte[4096]))));
        return topic;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<WeakReference> WeakRefsOf(List<ReceivedMessage> messages)
    {
        var refs = messages.Select(m => new WeakReference(m)).ToList();
        messages.Clear();
        return refs;
    }

    /// <summary>
    /// Review 19, finding 1: refused queued acks of a consumer that does not flush (a RunAsync or hosted consumer
    /// flushes only when its run ends) used to be kept with their messages, and so with their pull buffers, until a
    /// flush. Now a failure is kept as partition, offset, attempt and code, and the report stays small.
    /// </summary>
    [Fact]
    public async Task RefusedQueuedAcks_AreKeptWithoutTheirMessages_UntilAFlushReportsThem()
    {
        const int Count = 50;
        string topic = await TopicWithLargeMessagesAsync(Count);
        await using var consumer = Client.CreateConsumer(topic, "g", LongLeases);
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= Count);
        await Client.Admin.SeekAsync(topic, "g", SeekTarget.Earliest); // every lease is stale now
        foreach (var m in received) await m.AckAsync();
        await Eventually.UntilAsync(() => consumer.FailedAcks == Count);
        // One more settlement, of a new delivery: the settle loop's last-read item is no longer one of the refused.
        var again = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1);
        await again[0].AckConfirmedAsync();
        again.Clear();

        var weak = WeakRefsOf(received);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.Equal(0, weak.Count(w => w.IsAlive)); // no refused message (nor its pull buffer) is kept for the report

        var flushed = await Assert.ThrowsAsync<GranaryException>(() => consumer.FlushAcksAsync());
        Assert.Equal(GranaryErrorCode.StaleDelivery, flushed.Code);
        Assert.StartsWith($"{Count} queued ack(s)", flushed.Message, StringComparison.Ordinal);
        Assert.Equal(10, flushed.Message.Split("(attempt ").Length - 1); // names the first ten, counts the rest
        await consumer.FlushAcksAsync(); // reported once
    }

    /// <summary>
    /// Review 19, finding 2: a cancelled flush used to take the failures with it into a task nobody observed, and the
    /// next flush returned normally. Now the failures stay for the next flush that waits to the end.
    /// </summary>
    [Fact]
    public async Task ACancelledFlush_LeavesTheFailuresForTheNextFlush()
    {
        string topic = await TopicWithMessagesAsync(partitions: 1, count: 1);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        silo.HeldAcks[topic] = gate.Task;
        await using var consumer = Client.CreateConsumer(topic, "g", LongLeases);
        try
        {
            var message = Assert.Single(await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1));
            await Client.Admin.SeekAsync(topic, "g", SeekTarget.Earliest); // its ack will be refused
            await message.AckAsync();
            using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => consumer.FlushAcksAsync(cts.Token));
            gate.SetResult();
            await Eventually.UntilAsync(() => consumer.FailedAcks == 1);

            var flushed = await Assert.ThrowsAsync<GranaryException>(() => consumer.FlushAcksAsync());
            Assert.Equal(GranaryErrorCode.StaleDelivery, flushed.Code);
            Assert.Contains($"0/{message.Offset}", flushed.Message, StringComparison.Ordinal);
        }
        finally
        {
            gate.TrySetResult();
        }
    }

    /// <summary>
    /// Review 19, finding 3: a queued ack whose call failed was dropped, and the flush threw a retriable code, so a
    /// caller retrying the flush got success with the ack lost. Now a failed ack call is sent again (with backoff):
    /// a short outage loses nothing.
    /// </summary>
    [Fact]
    public async Task AnAckCallThatFailsForAWhile_IsSentAgain_AndTheBrokerTakesTheAck()
    {
        string topic = await TopicWithMessagesAsync(partitions: 1, count: 1);
        silo.FailingAcks[topic] = 2;
        await using var consumer = Client.CreateConsumer(topic, "g", LongLeases);
        var message = Assert.Single(await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1));
        await message.AckAsync();

        await consumer.FlushAcksAsync();

        Assert.Equal(3, silo.AckCalls.GetValueOrDefault(topic));
        Assert.Equal(0, consumer.FailedAcks);
        var lag = await Client.Admin.GetLagAsync(topic, "g");
        Assert.Equal(0, lag.TotalLag);
        Assert.Equal(0, lag.Partitions[0].InFlight);
    }

    /// <summary>
    /// Review 19, finding 3: when the retries run out the ack is lost; the flush then says so with a code that is not
    /// retriable, since retrying the flush would not send it again.
    /// </summary>
    [Fact]
    public async Task AnAckCallThatKeepsFailing_IsLost_AndTheFlushSaysSoWithACodeThatIsNotRetriable()
    {
        string topic = await TopicWithMessagesAsync(partitions: 1, count: 1);
        silo.FailingAcks[topic] = int.MaxValue;
        await using var consumer = Client.CreateConsumer(topic, "g", LongLeases);
        var failures = new ConcurrentQueue<AckFailedEventArgs>();
        consumer.AckFailed += (_, e) => failures.Enqueue(e);
        var message = Assert.Single(await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1));
        await message.AckAsync();

        var flushed = await Assert.ThrowsAsync<GranaryException>(() => consumer.FlushAcksAsync());
        silo.FailingAcks[topic] = 0;

        Assert.False(flushed.IsRetriable, $"{flushed.Code}");
        Assert.Contains("lost", flushed.Message, StringComparison.Ordinal);
        Assert.Contains("1 Timeout", flushed.Message, StringComparison.Ordinal);
        Assert.True(silo.AckCalls.GetValueOrDefault(topic) > 1, "the failed call was sent again before giving up");
        await Eventually.UntilAsync(() => !failures.IsEmpty);
        Assert.Equal(GranaryErrorCode.Timeout, Assert.Single(failures).Error.Code);
        await consumer.FlushAcksAsync(); // reported once
    }

    /// <summary>
    /// Review 19, finding 4: the calls of one batch went out together, so a nack queued after an ack could reach the
    /// broker first; under Ordered it took back the acked message, which then came again. Now the calls of one
    /// partition go in queue order.
    /// </summary>
    [Fact]
    public async Task ANackQueuedAfterAnAck_DoesNotOvertakeIt()
    {
        string topic = await TopicWithMessagesAsync(partitions: 1, count: 3);
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { Mode = DeliveryMode.Ordered, AckTimeout = TimeSpan.FromMinutes(5), MaxPrefetch = 16 });
        var seen = new ConcurrentQueue<ReceivedMessage>();
        using var stop = new CancellationTokenSource();
        var reading = Task.Run(async () =>
        {
            try
            {
                await foreach (var m in consumer.ReadAllAsync(stop.Token)) seen.Enqueue(m);
            }
            catch (OperationCanceledException)
            {
            }
        });
        var gate1 = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate2 = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await Eventually.UntilAsync(() => seen.Count >= 3);
            var msgs = seen.OrderBy(m => m.Offset).ToArray();

            silo.HeldAcks[topic] = gate1.Task;
            await msgs[0].AckAsync(); // the settle loop waits on this call now
            await Eventually.UntilAsync(() => silo.HeldCalls.GetValueOrDefault(topic) == 1);
            await msgs[2].AckAsync();       // queued first ...
            var nack = msgs[1].NackAsync(); // ... then the nack: both go out in the next batch
            silo.HeldAcks[topic] = gate2.Task; // the ack of 2 will be held, the nack is not
            gate1.SetResult();

            await Eventually.UntilAsync(() => silo.HeldCalls.GetValueOrDefault(topic) == 2 || nack.IsCompleted);
            silo.HeldAcks.TryRemove(topic, out _);
            gate2.SetResult();
            await nack.WaitAsync(TimeSpan.FromSeconds(60));

            Assert.False(msgs[2].IsRevoked); // the ack of 2 went first: 2 is done, only 1 comes again
            await consumer.FlushAcksAsync(); // and no ack was refused
            await Eventually.UntilAsync(() => seen.Count(m => m.Offset == msgs[1].Offset) >= 2);
            await seen.Last(m => m.Offset == msgs[1].Offset).AckConfirmedAsync();
            Assert.Equal(0, (await Client.Admin.GetLagAsync(topic, "g")).TotalLag);
            Assert.Single(seen, m => m.Offset == msgs[2].Offset);
        }
        finally
        {
            silo.HeldAcks.TryRemove(topic, out _);
            gate1.TrySetResult();
            gate2.TrySetResult();
            await stop.CancelAsync();
            await reading;
        }
    }

    /// <summary>Review 19, finding 5: a cancelled AckConfirmedAsync whose ack is then refused leaves no unobserved faulted task.</summary>
    [Fact]
    public async Task ACancelledConfirmedAck_ThenRefused_LeavesNoUnobservedFaultedTask()
    {
        string topic = await TopicWithMessagesAsync(partitions: 1, count: 1);
        var unobserved = new ConcurrentQueue<Exception>();
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
        {
            if (e.Exception.Flatten().InnerExceptions.Any(x => x.Message.Contains(topic, StringComparison.Ordinal))) unobserved.Enqueue(e.Exception);
        }
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        silo.HeldAcks[topic] = gate.Task;
        TaskScheduler.UnobservedTaskException += OnUnobserved;
        try
        {
            await using var consumer = Client.CreateConsumer(topic, "g", LongLeases);
            var message = Assert.Single(await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1));
            await Client.Admin.SeekAsync(topic, "g", SeekTarget.Earliest); // its ack will be refused
            using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => message.AckConfirmedAsync(cts.Token));
            gate.SetResult();
            await consumer.FlushAcksAsync(); // the refusal has happened

            for (int i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            Assert.Empty(unobserved);
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
            gate.TrySetResult();
        }
    }

    /// <summary>Review 19, finding 5: an ack not awaited after the consumer was disposed leaves no unobserved faulted task.</summary>
    [Fact]
    public async Task AnAckNotAwaitedAfterDispose_LeavesNoUnobservedFaultedTask()
    {
        string topic = await TopicWithMessagesAsync(partitions: 1, count: 1);
        var unobserved = new ConcurrentQueue<Exception>();
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
        {
            if (e.Exception.Flatten().InnerExceptions.Any(x => x.Message.Contains(topic, StringComparison.Ordinal))) unobserved.Enqueue(e.Exception);
        }
        TaskScheduler.UnobservedTaskException += OnUnobserved;
        try
        {
            var consumer = Client.CreateConsumer(topic, "g", LongLeases);
            var message = Assert.Single(await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1));
            await consumer.DisposeAsync();
            AckWithoutAwaiting(message);
            for (int i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            Assert.Empty(unobserved);
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AckWithoutAwaiting(ReceivedMessage message) => _ = message.AckAsync();

    /// <summary>
    /// Review 19, finding 5: AckFailed ran inside the settle loop, so a handler waiting for a flush stopped every ack of
    /// the consumer. Now it runs off the loop.
    /// </summary>
    [Fact]
    public async Task AnAckFailedHandlerThatWaitsForAFlush_DoesNotStopTheAcks()
    {
        string topic = await TopicWithMessagesAsync(partitions: 1, count: 2);
        await using var consumer = Client.CreateConsumer(topic, "g", LongLeases);
        int flushedInHandler = 0;
        consumer.AckFailed += (_, _) =>
        {
            try
            {
                if (consumer.FlushAcksAsync().Wait(TimeSpan.FromSeconds(30))) Interlocked.Increment(ref flushedInHandler);
            }
            catch (AggregateException)
            {
                Interlocked.Increment(ref flushedInHandler); // it threw the refusal: it finished
            }
        };
        var held = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 2);
        await Client.Admin.SeekAsync(topic, "g", SeekTarget.Earliest); // both leases are stale

        await held[0].AckAsync(); // refused: the handler blocks on a flush
        var refused = await Assert.ThrowsAsync<GranaryException>(() => held[1].AckConfirmedAsync().WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.Equal(GranaryErrorCode.StaleDelivery, refused.Code);
        await Eventually.UntilAsync(() => Volatile.Read(ref flushedInHandler) == 1);
    }

    /// <summary>
    /// Review 19, finding 5: RunAsync's own flush used to take the failures of its handlers' acks, so the application's
    /// flush after the run never saw them. Now the run waits for the answers and leaves the failures.
    /// </summary>
    [Fact]
    public async Task RunAsync_LeavesTheFailuresOfItsHandlersAcks_ForTheApplicationsFlush()
    {
        string topic = await TopicWithMessagesAsync(partitions: 1, count: 1);
        await using var consumer = Client.CreateConsumer(topic, "g", LongLeases);
        using var done = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        int seeks = 0;
        consumer.AckFailed += (_, _) => done.Cancel();

        await consumer.RunAsync(async (_, _) =>
        {
            // The first handler's lease becomes stale before the runner acks it: the ack is refused.
            if (Interlocked.Increment(ref seeks) == 1) await Client.Admin.SeekAsync(topic, "g", SeekTarget.Earliest, CancellationToken.None);
        }, new HandlerOptions { MaxConcurrency = 1 }, done.Token);

        Assert.True(consumer.FailedAcks >= 1);
        var flushed = await Assert.ThrowsAsync<GranaryException>(() => consumer.FlushAcksAsync());
        Assert.Equal(GranaryErrorCode.StaleDelivery, flushed.Code);
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

        /// <summary>Ack calls that were held, per topic.</summary>
        public ConcurrentDictionary<string, int> HeldCalls { get; } = new();

        /// <summary>Per topic, how many of the next ack calls fail in the client (a TimeoutException: the silo did not answer).</summary>
        public ConcurrentDictionary<string, int> FailingAcks { get; } = new();

        public async ValueTask InitializeAsync()
        {
            _silo = await OneSiloCluster.StartAsync(
                granary: o => o.LeaseCheckInterval = TimeSpan.FromMilliseconds(100),
                client: client => client.AddOutgoingGrainCallFilter(async context =>
                {
                    if (context.InterfaceMethod?.Name == nameof(IPartitionCursorGrain.AckRunsAsync))
                    {
                        string topic = context.TargetId.Key.ToString()!.Split('/')[0];
                        if (HeldAcks.TryGetValue(topic, out var gate))
                        {
                            HeldCalls.AddOrUpdate(topic, 1, (_, n) => n + 1);
                            await gate;
                        }
                        AckCalls.AddOrUpdate(topic, 1, (_, n) => n + 1);
                        if (FailingAcks.TryGetValue(topic, out int failing) && failing > 0)
                        {
                            FailingAcks[topic] = failing - 1;
                            throw new TimeoutException("test: the ack call failed");
                        }
                    }
                    await context.Invoke();
                }));
        }

        public ValueTask DisposeAsync() => _silo.DisposeAsync();
    }
}
