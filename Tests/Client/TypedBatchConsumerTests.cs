using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Granary.Tests.Client;

/// <summary>Batch consumption: batches up to the size, one settlement for a batch, retry of a failed batch, dead-lettering inside a batch.</summary>
[Collection(BrokerCluster.Name)]
[Trait("Category", "Integration")]
public sealed class TypedBatchConsumerTests(BrokerClusterFixture fixture)
{
    private GranaryClient Client => fixture.Client;

    [Fact]
    public async Task Batches_AreAckedTogether_AndNothingComesBackAfterTheLease()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });
        await using (var producer = Client.CreateProducer<TypedOrder>(topic))
            await Task.WhenAll(Enumerable.Range(0, 60).Select(i => producer.SendAsync(new TypedOrder($"o-{i}", i), key: $"k{i % 7}")));

        // A short lease: a batch whose acks were lost would come back within the test.
        var lease = TimeSpan.FromSeconds(2);
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = lease, MaxPrefetch = 64 });
        var batches = new ConcurrentQueue<IReadOnlyList<ReceivedMessage<TypedOrder>>>();
        long lastBatchAtTicks = DateTime.MaxValue.Ticks;
        await TypedConsumerTests.RunUntilAsync(ct => consumer.RunBatchesAsync<TypedOrder>((batch, _) =>
        {
            batches.Enqueue(batch);
            Volatile.Write(ref lastBatchAtTicks, DateTime.UtcNow.Ticks);
            return Task.CompletedTask;
        }, new BatchHandlerOptions { MaxBatchSize = 16, MaxBatchWait = TimeSpan.FromMilliseconds(200) }, cancellationToken: ct),
            // Everything acked, and more than two leases passed since the last batch: a lost ack would have brought its message back by now.
            async () => batches.Sum(b => b.Count) >= 60 && (await Client.Admin.GetLagAsync(topic, "g")).TotalLag == 0
                && DateTime.UtcNow.Ticks - Volatile.Read(ref lastBatchAtTicks) > (2 * lease).Ticks);

        var handled = batches.SelectMany(b => b).ToList();
        Assert.Equal(60, handled.Count); // each message exactly once: nothing redelivered
        Assert.Equal(Enumerable.Range(0, 60).Select(i => $"o-{i}").Order(), handled.Select(m => m.Value.Id).Order());
        Assert.All(batches, b => Assert.InRange(b.Count, 1, 16));
        Assert.True(batches.Count < 60, $"{batches.Count} batches for 60 messages: they were not gathered");
        Assert.All(handled, m => Assert.True(m.Message.IsSettled));
        Assert.All(handled, m => Assert.Equal(1, m.DeliveryAttempt));
        var lag = await Client.Admin.GetLagAsync(topic, "g");
        Assert.Equal(0, lag.TotalLag);
        Assert.Equal(0, lag.Partitions.Sum(p => p.DeadLettered));
        // Keyed messages stay in offset order per partition across batches.
        foreach (var partition in handled.GroupBy(m => m.Partition))
            Assert.Equal(partition.Select(m => m.Offset).Order(), partition.Select(m => m.Offset));
    }

    [Fact]
    public async Task AFailedBatch_IsNackedTogether_AndComesBackWhole_ABadPayloadIsLeftOutAndDeadLettered()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using (var producer = Client.CreateProducer(topic))
        {
            await producer.SendAsync(new TypedOrder("o-1", 1m), key: "k");
            await producer.SendAsync(new OutgoingMessage("]]"u8.ToArray()) { Key = "k" });
            await producer.SendAsync(new TypedOrder("o-2", 2m), key: "k");
        }
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = ClientTestExtensions.NoExpiry });
        var seen = new ConcurrentQueue<(string Id, int Attempt)>();
        int calls = 0;
        await TypedConsumerTests.RunUntilAsync(ct => consumer.RunBatchesAsync<TypedOrder>((batch, _) =>
        {
            foreach (var m in batch) seen.Enqueue((m.Value.Id, m.DeliveryAttempt));
            // The first batch holding the orders fails; the retry succeeds.
            return Interlocked.Increment(ref calls) == 1 ? throw new InvalidOperationException("database down") : Task.CompletedTask;
        }, new BatchHandlerOptions { MaxBatchWait = TimeSpan.FromSeconds(1), RetryDelay = TimeSpan.FromMilliseconds(100) }, cancellationToken: ct),
            async () => (await Client.Admin.GetLagAsync(topic, "g")) is { TotalLag: 0 } lag && lag.Partitions.Sum(p => p.DeadLettered) == 1);

        var firstTry = seen.Where(s => s.Attempt == 1).Select(s => s.Id).Order().ToList();
        var retry = seen.Where(s => s.Attempt == 2).Select(s => s.Id).Order().ToList();
        Assert.Equal(["o-1", "o-2"], firstTry);
        Assert.Equal(firstTry, retry); // the whole batch came back
        Assert.Equal(4, seen.Count);
    }

    [Fact]
    public async Task ConsumerAckOfACollection_SettlesThemAll_SkipsSettledOnes_AndRefusesAnotherConsumersMessages()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 3 });
        await using (var producer = Client.CreateProducer(topic))
            await Task.WhenAll(Enumerable.Range(0, 30).Select(i => producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"m-{i}")))));
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = TimeSpan.FromSeconds(2) });
        var messages = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 30);
        await messages[0].AckAsync(); // settled one by one first: left out of the collection's ack

        // A message of another consumer in the collection: refused, and none of the others is marked settled.
        string otherTopic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(otherTopic);
        await using (var producer = Client.CreateProducer(otherTopic)) await producer.SendAsync(new OutgoingMessage("x"u8.ToArray()));
        await using var other = Client.CreateConsumer(otherTopic, "g");
        var foreign = Assert.Single(await Eventually.CollectAsync(other.ReadAllAsync(), r => r.Count >= 1));
        Assert.Throws<ArgumentException>(() => { _ = consumer.AckAsync([messages[1], foreign]); });
        Assert.False(messages[1].IsSettled);
        Assert.False(foreign.IsSettled);

        await consumer.AckAsync(messages);
        Assert.All(messages, m => Assert.True(m.IsSettled));
        await consumer.AckAsync(messages); // all settled: nothing to send
        Assert.Equal(0, (await Client.Admin.GetLagAsync(topic, "g")).TotalLag);
        Assert.Equal(0, consumer.FailedAcks);
    }

    [Fact]
    public async Task HostedBatchConsumer_GetsBatches_FromAScopePerBatch()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<BatchRecorder>();
        builder.Services
            .AddGranaryClient(Client)
            .AddGranaryBatchConsumer<TypedOrder, BatchHandler>(topic, "batched", c => c.AckTimeout = ClientTestExtensions.NoExpiry, b => b.MaxBatchSize = 10);
        using var host = builder.Build();
        var recorder = host.Services.GetRequiredService<BatchRecorder>();
        await host.StartAsync();
        await using (var producer = Client.CreateProducer<TypedOrder>(topic))
            await Task.WhenAll(Enumerable.Range(0, 25).Select(i => producer.SendAsync(new TypedOrder($"o-{i}", i))));
        await Eventually.UntilAsync(async () => recorder.Sizes.Sum() >= 25 && (await Client.Admin.GetLagAsync(topic, "batched")).TotalLag == 0);
        using (var stopTimeout = new CancellationTokenSource(Eventually.DefaultTimeout)) await host.StopAsync(stopTimeout.Token);

        Assert.Equal(25, recorder.Sizes.Sum());
        Assert.All(recorder.Sizes, s => Assert.InRange(s, 1, 10));
    }

    public sealed class BatchRecorder
    {
        public ConcurrentQueue<int> Sizes { get; } = new();
    }

    public sealed class BatchHandler(BatchRecorder recorder) : IBatchMessageHandler<TypedOrder>
    {
        public Task HandleAsync(IReadOnlyList<ReceivedMessage<TypedOrder>> batch, CancellationToken cancellationToken)
        {
            recorder.Sizes.Enqueue(batch.Count);
            return Task.CompletedTask;
        }
    }
}
