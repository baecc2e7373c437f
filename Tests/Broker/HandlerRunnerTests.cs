using System.Collections.Concurrent;

namespace Granary.Tests.Broker;

[Collection(BrokerCluster.Name)]
[Trait("Category", "Integration")]
public sealed class HandlerRunnerTests(BrokerClusterFixture fixture)
{
    /// <summary>A lease no stall of a loaded machine outlasts: these tests assert exact delivery counts.</summary>
    private static readonly TimeSpan NoExpiry = TimeSpan.FromMinutes(10);

    private GranaryClient Client => fixture.Client;

    [Fact]
    public async Task RunAsync_ManyKeys_HandlesEachKeyInOffsetOrder_OneAtATime()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 4 });
        await using var producer = Client.CreateProducer(topic);
        const int Keys = 20, Count = 400;
        // Sent concurrently: the confirmed offsets define each key's order.
        var receipts = await Task.WhenAll(Enumerable.Range(0, Count).Select(i =>
            producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"{i}")) { Key = $"key-{i % Keys}" })));

        var handled = new ConcurrentDictionary<string, List<string>>();
        var running = new ConcurrentDictionary<string, int>();
        int overlaps = 0, active = 0, maxActive = 0, total = 0;
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry });
        await RunUntilAsync(consumer, async (message, cancellationToken) =>
        {
            string key = message.Key!;
            if (running.AddOrUpdate(key, 1, (_, n) => n + 1) > 1) Interlocked.Increment(ref overlaps);
            int now = Interlocked.Increment(ref active);
            InterlockedMax(ref maxActive, now);
            // Uneven handler times, so that a runner ignoring keys would reorder them.
            if (int.Parse(Text(message), System.Globalization.CultureInfo.InvariantCulture) % 3 == 0) await Task.Delay(2, cancellationToken);
            else await Task.Yield();
            var list = handled.GetOrAdd(key, _ => []);
            lock (list) list.Add(Text(message));
            Interlocked.Decrement(ref active);
            running.AddOrUpdate(key, 0, (_, n) => n - 1);
            Interlocked.Increment(ref total);
        }, new HandlerOptions { MaxConcurrency = 8 }, () => Task.FromResult(Volatile.Read(ref total) >= Count));

        Assert.Equal(0, overlaps);
        Assert.InRange(maxActive, 1, 8); // that keys do run side by side is the next test's job
        for (int k = 0; k < Keys; k++)
        {
            var confirmedOrder = receipts.Select((r, i) => (r, i)).Where(x => x.i % Keys == k).OrderBy(x => x.r.Offset).Select(x => $"{x.i}");
            Assert.Equal(confirmedOrder, handled[$"key-{k}"]);
        }
        await Eventually.UntilAsync(() => AllAckedAsync(topic));
    }

    [Fact]
    public async Task RunAsync_DifferentKeys_RunInParallel_UpToMaxConcurrency()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });
        await using var producer = Client.CreateProducer(topic);
        await Task.WhenAll(Enumerable.Range(0, 12).Select(i => producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"{i}")) { Key = $"key-{i}" })));

        // Every handler waits until four run at once: a runner that does not run them in parallel never opens the gate.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int active = 0, maxActive = 0, total = 0;
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry });
        await RunUntilAsync(consumer, async (_, cancellationToken) =>
        {
            int now = Interlocked.Increment(ref active);
            InterlockedMax(ref maxActive, now);
            if (now >= 4) gate.TrySetResult();
            await gate.Task.WaitAsync(cancellationToken);
            Interlocked.Decrement(ref active);
            Interlocked.Increment(ref total);
        }, new HandlerOptions { MaxConcurrency = 4 }, () => Task.FromResult(Volatile.Read(ref total) >= 12));

        Assert.Equal(4, maxActive);
    }

    [Fact]
    public async Task RunAsync_HandlerThrows_MessageIsNackedRedeliveredAndThenAcked()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using var producer = Client.CreateProducer(topic);
        await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes("flaky")));

        var attempts = new ConcurrentQueue<int>();
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry });
        await RunUntilAsync(consumer, (message, _) =>
        {
            attempts.Enqueue(message.DeliveryAttempt);
            return message.DeliveryAttempt == 1 ? throw new InvalidOperationException("first try fails") : Task.CompletedTask;
        }, new HandlerOptions(), async () => attempts.Count >= 2 && await AllAckedAsync(topic));

        Assert.Equal([1, 2], attempts);
    }

    [Theory]
    [InlineData(DeliveryMode.Ordered)]
    [InlineData(DeliveryMode.KeyShared)]
    public async Task RunAsync_OrderedModes_FailedMessageIsRetriedBeforeTheLaterOnesOfItsKey(DeliveryMode mode)
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using var producer = Client.CreateProducer(topic);
        for (int i = 0; i < 10; i++) await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"{i}")) { Key = "k" });

        // Hold message 0 until all ten are with the runner, so that 4..9 are queued behind 3 when it fails: a runner
        // that ran revoked messages would handle them before 3's retry, and again after it.
        var succeeded = new ConcurrentQueue<string>();
        var attemptsOf3 = new ConcurrentQueue<int>();
        var options = new ConsumerOptions { AckTimeout = NoExpiry, Mode = mode };
        await using var consumer = Client.CreateConsumer(topic, "g", options);
        await RunUntilAsync(consumer, async (message, _) =>
        {
            string text = Text(message);
            if (text == "0") await Eventually.UntilAsync(async () => (await Client.Admin.GetLagAsync(topic, "g")).Partitions[0].InFlight == 10);
            if (text == "3")
            {
                attemptsOf3.Enqueue(message.DeliveryAttempt);
                if (message.DeliveryAttempt == 1) throw new InvalidOperationException("3 fails once");
            }
            succeeded.Enqueue(text);
        }, new HandlerOptions { MaxConcurrency = 4 }, async () => succeeded.Count >= 10 && await AllAckedAsync(topic));

        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"{i}"), succeeded);
        Assert.Equal([1, 2], attemptsOf3);
    }

    [Fact]
    public async Task RunAsync_WithIdempotencyStore_SameMessageIdTwice_HandlesItOnceAndAcksBoth()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic); // no dedup window: the broker stores both copies
        await using var producer = Client.CreateProducer(topic);
        await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes("first")) { Headers = WithMessageId("order-1") });
        await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes("copy")) { Headers = WithMessageId("order-1") });
        var plain = await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes("no id")));

        var store = new RecordingStore(new InMemoryIdempotencyStore());
        var handled = new ConcurrentQueue<string>();
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry });
        await RunUntilAsync(consumer, (message, _) =>
        {
            handled.Enqueue(Text(message));
            return Task.CompletedTask;
        }, new HandlerOptions { IdempotencyStore = store }, async () => handled.Count >= 2 && await AllAckedAsync(topic));

        Assert.Equal(["first", "no id"], handled.Order());
        Assert.Equal(["order-1", "order-1", $"{topic}/0/{plain.Offset}"], store.Begun.Order());
        Assert.Equal(["order-1", $"{topic}/0/{plain.Offset}"], store.Completed.Order());
    }

    [Fact]
    public async Task RunAsync_WithIdempotencyStore_FailedHandler_AbandonsTheClaimSoTheRetryRuns()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using var producer = Client.CreateProducer(topic);
        await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes("flaky")) { Headers = WithMessageId("job-7") });

        var store = new InMemoryIdempotencyStore();
        var attempts = new ConcurrentQueue<int>();
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry });
        await RunUntilAsync(consumer, (message, _) =>
        {
            attempts.Enqueue(message.DeliveryAttempt);
            return message.DeliveryAttempt == 1 ? throw new InvalidOperationException("fails once") : Task.CompletedTask;
        }, new HandlerOptions { IdempotencyStore = store }, async () => attempts.Count >= 2 && await AllAckedAsync(topic));

        Assert.Equal([1, 2], attempts);
        Assert.Equal(IdempotencyStatus.Completed, await store.TryBeginAsync("job-7", CancellationToken.None));
    }

    [Fact]
    public async Task RunAsync_Cancelled_AwaitsRunningHandlersAndReturns()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using var producer = Client.CreateProducer(topic);
        await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes("long")));

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool finished = false;
        using var cancel = new CancellationTokenSource();
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry });
        var run = consumer.RunAsync(async (_, cancellationToken) =>
        {
            started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            finally
            {
                finished = true;
            }
        }, cancellationToken: cancel.Token);
        await started.Task.WaitAsync(Eventually.DefaultTimeout);
        await cancel.CancelAsync();
        await run.WaitAsync(Eventually.DefaultTimeout);

        Assert.True(finished); // the handler saw the token and was awaited
        Assert.Equal(1, (await Client.Admin.GetLagAsync(topic, "g")).TotalLag); // cancelled: nacked, not acked
    }

    [Fact]
    public async Task RunAsync_TopicMissing_ThrowsTheConsumersError()
    {
        await using var consumer = Client.CreateConsumer(BrokerClusterFixture.UniqueTopic(), "g");
        var error = await Assert.ThrowsAsync<GranaryException>(() => consumer.RunAsync((_, _) => Task.CompletedTask).WaitAsync(Eventually.DefaultTimeout));
        Assert.Equal(GranaryErrorCode.TopicNotFound, error.Code);
    }

    /// <summary>Runs the handler until <paramref name="done"/> holds (failing on the deadline or if the run ends first), then stops it.</summary>
    internal static async Task RunUntilAsync(GranaryConsumer consumer, Func<ReceivedMessage, CancellationToken, Task> handler, HandlerOptions options, Func<Task<bool>> done)
    {
        using var cancel = new CancellationTokenSource();
        var run = consumer.RunAsync(handler, options, cancel.Token);
        await Eventually.UntilAsync(async () => run.IsCompleted || await done());
        Assert.False(run.IsCompleted, $"the run ended early: {run.Exception}");
        await cancel.CancelAsync();
        await run.WaitAsync(Eventually.DefaultTimeout);
    }

    private async Task<bool> AllAckedAsync(string topic) => (await Client.Admin.GetLagAsync(topic, "g")).TotalLag == 0;

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }

    /// <summary>
    /// The header <see cref="ReceivedMessage.MessageId"/> reads. Set directly because the producer does not send
    /// <see cref="OutgoingMessage.MessageId"/> yet (it arrives with broker-side deduplication).
    /// </summary>
    private static Dictionary<string, byte[]> WithMessageId(string id) => new() { [GranaryHeaders.MessageId] = Encoding.UTF8.GetBytes(id) };

    private static string Text(ReceivedMessage message) => Encoding.UTF8.GetString(message.Payload.Span);

    /// <summary>Records the ids the runner asks about.</summary>
    private sealed class RecordingStore(IIdempotencyStore inner) : IIdempotencyStore
    {
        public ConcurrentQueue<string> Begun { get; } = new();
        public ConcurrentQueue<string> Completed { get; } = new();

        public ValueTask<IdempotencyStatus> TryBeginAsync(string messageKey, CancellationToken cancellationToken)
        {
            Begun.Enqueue(messageKey);
            return inner.TryBeginAsync(messageKey, cancellationToken);
        }

        public ValueTask CompleteAsync(string messageKey, CancellationToken cancellationToken)
        {
            Completed.Enqueue(messageKey);
            return inner.CompleteAsync(messageKey, cancellationToken);
        }

        public ValueTask AbandonAsync(string messageKey, CancellationToken cancellationToken) => inner.AbandonAsync(messageKey, cancellationToken);
    }
}
