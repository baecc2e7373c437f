namespace Granary.Tests.Diagnostics;

/// <summary>The consume side's timings recorded by a real pull and a real long-polling fetch.</summary>
[Collection(BrokerCluster.Name)]
[Trait("Category", "Integration")]
public sealed class DeliveryLatencyClusterTests(BrokerClusterFixture fixture)
{
    [Fact]
    public async Task Pull_MessagesSentToAWaitingConsumer_RecordTheirDelay_AndTheFetchWake()
    {
        using var metrics = new MetricsRecorder();
        string topic = BrokerClusterFixture.UniqueTopic("latency");
        await fixture.Client.Admin.CreateTopicAsync(topic);
        await using var consumer = fixture.Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = ClientTestExtensions.NoExpiry });
        await consumer.StartAsync();
        long received = 0;
        using var stop = new CancellationTokenSource();
        var reading = Task.Run(async () =>
        {
            await foreach (var message in consumer.ReadAllAsync(stop.Token))
            {
                await message.AckAsync();
                Interlocked.Increment(ref received);
            }
        });
        await using var producer = fixture.Client.CreateProducer(topic);

        // One message at a time, each to a consumer that waits in a long poll (most of the time): until a fetch was woken.
        long sent = 0;
        await Eventually.UntilAsync(async () =>
        {
            await producer.SendAsync(new OutgoingMessage("hello"u8.ToArray()));
            sent++;
            return metrics.Of("granary.fetch.wake", topic).Any();
        });
        await Eventually.UntilAsync(() => Interlocked.Read(ref received) == sent);
        await stop.CancelAsync();
        await reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);

        Assert.All(metrics.Of("granary.fetch.wake", topic), m => Assert.InRange(m.Value, 0, 60));
        var delays = metrics.Of("granary.delivery.delay", topic).ToList();
        Assert.InRange(delays.Count, 1, (int)sent);
        Assert.All(delays, m => Assert.InRange(m.Value, 0, 60));
        // Every message delivered once, each counted once in the sum; none older than the oldest of its pull.
        Assert.Equal(sent, metrics.Sum("granary.delivery.age.messages", topic));
        Assert.InRange(metrics.Sum("granary.delivery.age", topic), 0, delays.Max(m => m.Value) * sent + 1e-9);
    }
}
