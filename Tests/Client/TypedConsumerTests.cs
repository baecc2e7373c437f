using System.Collections.Concurrent;
using Granary.Client.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Granary.Tests.Client;

/// <summary>Typed producing and consuming through a real silo: JSON values, the content type header, dead-lettering what cannot be read.</summary>
[Collection(BrokerCluster.Name)]
[Trait("Category", "Integration")]
public sealed class TypedConsumerTests(BrokerClusterFixture fixture)
{
    private static readonly TimeSpan NoExpiry = ClientTestExtensions.NoExpiry;

    private GranaryClient Client => fixture.Client;

    [Fact]
    public async Task TypedProducer_And_TypedRun_CarryValues_WithTheContentTypeHeader()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });
        await using (var producer = Client.CreateProducer<TypedOrder>(topic, serializer: new JsonMessageSerializer<TypedOrder>(TypedTestJson.Default.TypedOrder)))
        {
            await producer.SendAsync(new TypedOrder("o-1", 1m), key: "a");
            await producer.SendAsync(new OutgoingMessage<TypedOrder>(new TypedOrder("o-2", 2m)) { Key = "b", MessageId = "m-2" });
        }
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry });
        var handled = new ConcurrentQueue<ReceivedMessage<TypedOrder>>();
        await RunUntilAsync(ct => consumer.RunAsync<TypedOrder>((m, _) =>
        {
            handled.Enqueue(m);
            return Task.CompletedTask;
        }, serializer: new JsonMessageSerializer<TypedOrder>(TypedTestJson.Default), cancellationToken: ct),
            async () => handled.Count >= 2 && (await Client.Admin.GetLagAsync(topic, "g")).TotalLag == 0);

        Assert.Equal([new TypedOrder("o-1", 1m), new TypedOrder("o-2", 2m)], handled.Select(m => m.Value).OrderBy(o => o.Id));
        Assert.All(handled, m => Assert.Equal("application/json", m.Message.HeaderText(GranaryHeaders.ContentType)));
        Assert.Equal("m-2", handled.Single(m => m.Key == "b").MessageId);
    }

    [Fact]
    public async Task HostedTypedConsumer_ABadPayload_IsDeadLetteredWithReasonDeserialization_AndTheNextGoodMessageIsHandled()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<OrderRecorder>();
        builder.Services
            .AddGranaryClient(Client)
            .AddGranaryConsumer<TypedOrder, OrderHandler>(topic, "typed", c => c.AckTimeout = NoExpiry);
        using var host = builder.Build();
        var recorder = host.Services.GetRequiredService<OrderRecorder>();
        await host.StartAsync();

        SendReceipt bad, wrongType;
        await using (var producer = Client.CreateProducer(topic))
        {
            // One key: all in one partition, in this order, so the good ones come after the bad ones.
            bad = await producer.SendAsync(new OutgoingMessage("{not json"u8.ToArray()) { Key = "k" });
            wrongType = await producer.SendAsync(new OutgoingMessage("""{"id":"o-x","amount":1}"""u8.ToArray())
            {
                Key = "k",
                Headers = new Dictionary<string, byte[]> { [GranaryHeaders.ContentType] = "application/x-protobuf"u8.ToArray() },
            });
            await producer.SendAsync(new TypedOrder("o-good", 5m), key: "k");
        }
        await Eventually.UntilAsync(() => !recorder.Handled.IsEmpty);
        await Eventually.UntilAsync(async () => (await Client.Admin.GetLagAsync(topic, "typed")).Partitions.Sum(p => p.DeadLettered) == 2);
        using (var stopTimeout = new CancellationTokenSource(Eventually.DefaultTimeout)) await host.StopAsync(stopTimeout.Token);

        Assert.Equal([new TypedOrder("o-good", 5m)], recorder.Handled);
        var service = Assert.Single(host.Services.GetServices<IHostedService>().OfType<BackgroundService>());
        Assert.True(service.ExecuteTask!.IsCompletedSuccessfully, $"the consumer service ended with {service.ExecuteTask.Status}");
        Assert.Equal(0, (await Client.Admin.GetLagAsync(topic, "typed")).TotalLag);

        await using var dlq = Client.CreateConsumer($"{topic}.typed.dlq", "inspect", new ConsumerOptions { AckTimeout = NoExpiry });
        var letters = await Eventually.CollectAsync(dlq.ReadAllAsync(), r => r.Count >= 2, onEach: m => m.AckAsync());
        Assert.All(letters, l => Assert.Equal(GranaryHeaders.Reasons.Deserialization, l.HeaderText(GranaryHeaders.DeadLetterReason)));
        Assert.Equal([$"{bad.Offset}", $"{wrongType.Offset}"], letters.Select(l => l.HeaderText(GranaryHeaders.SourceOffset)).Order());
        Assert.Equal("{not json", Encoding.UTF8.GetString(letters.Single(l => l.HeaderText(GranaryHeaders.SourceOffset) == $"{bad.Offset}").Payload.Span));
    }

    [Fact]
    public async Task TypedReadAll_SkipsAndDeadLettersWhatItCannotRead()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using (var producer = Client.CreateProducer(topic))
        {
            await producer.SendAsync(new OutgoingMessage("null"u8.ToArray()) { Key = "k" });
            await producer.SendAsync(new TypedOrder("o-1", 1m), key: "k");
        }
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry });
        var read = Assert.Single(await Eventually.CollectAsync(consumer.ReadAllAsync<TypedOrder>(), r => r.Count >= 1, onEach: m => m.Message.AckAsync()));
        Assert.Equal(new TypedOrder("o-1", 1m), read.Value);
        await Eventually.UntilAsync(async () => (await Client.Admin.GetLagAsync(topic, "g")) is { TotalLag: 0 } lag && lag.Partitions.Sum(p => p.DeadLettered) == 1);
    }

    /// <summary>Runs <paramref name="run"/> until <paramref name="done"/> holds (failing if the run ends first), then stops it.</summary>
    internal static async Task RunUntilAsync(Func<CancellationToken, Task> run, Func<Task<bool>> done)
    {
        using var cancel = new CancellationTokenSource();
        var running = run(cancel.Token);
        await Eventually.UntilAsync(async () => running.IsCompleted || await DoneYetAsync(done));
        Assert.False(running.IsCompleted, $"the run ended early: {running.Exception}");
        await cancel.CancelAsync();
        await running.WaitAsync(Eventually.DefaultTimeout);
    }

    // The condition usually reads the group's lag: until the run's consumer has joined, the group does not exist yet.
    private static async Task<bool> DoneYetAsync(Func<Task<bool>> done)
    {
        try
        {
            return await done();
        }
        catch (GranaryException e) when (e.Code == GranaryErrorCode.GroupNotFound)
        {
            return false;
        }
    }

    public sealed class OrderRecorder
    {
        public ConcurrentQueue<TypedOrder> Handled { get; } = new();
    }

    public sealed class OrderHandler(OrderRecorder recorder) : IMessageHandler<TypedOrder>
    {
        public Task HandleAsync(ReceivedMessage<TypedOrder> message, CancellationToken cancellationToken)
        {
            recorder.Handled.Enqueue(message.Value);
            return Task.CompletedTask;
        }
    }
}
