using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Granary.Tests.Client;

/// <summary>The client's meter counts sends, confirmations, failures, receipts, acks, in-flight sends and the prefetch fill (issue 20, item 4e).</summary>
[Collection(BrokerCluster.Name)]
[Trait("Category", "Integration")]
public sealed class ClientMetricsTests(BrokerClusterFixture fixture)
{
    [Fact]
    public async Task Meter_CountsAProducersAndAConsumersWork_ForItsTopic()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        using var metrics = new TopicMetrics(topic);
        var client = fixture.Client;
        await client.Admin.CreateTopicAsync(topic);

        await using (var producer = client.CreateProducer(topic))
        {
            await Task.WhenAll(Enumerable.Range(0, 3).Select(i => producer.SendAsync(new OutgoingMessage(new byte[] { (byte)i }))));
            Assert.Equal(3, metrics.Sum("granary.client.sent"));
            Assert.Equal(3, metrics.Sum("granary.client.confirmed"));
            Assert.Equal(0, metrics.Sum("granary.client.in_flight"));
        }

        await using var consumer = client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = ClientTestExtensions.NoExpiry, PollWait = TimeSpan.FromMilliseconds(200) });
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 3);
        Assert.Equal(3, metrics.Sum("granary.client.received"));
        Assert.Equal(3, metrics.Sum("granary.client.prefetch_fill"));
        foreach (var message in received) await message.AckConfirmedAsync();
        Assert.Equal(3, metrics.Sum("granary.client.acked"));
        Assert.Equal(0, metrics.Sum("granary.client.prefetch_fill"));
        Assert.All(metrics.Groups("granary.client.acked"), g => Assert.Equal("g", g));
    }

    [Fact]
    public async Task Meter_CountsAFailedSend_WithItsErrorCode()
    {
        string topic = BrokerClusterFixture.UniqueTopic("missing");
        using var metrics = new TopicMetrics(topic);
        await using var producer = fixture.Client.CreateProducer(topic);

        await Assert.ThrowsAsync<GranaryException>(() => producer.SendAsync(new OutgoingMessage("x"u8.ToArray())));
        await Eventually.UntilAsync(() => metrics.Sum("granary.client.failed") == 1);
        Assert.Equal(["TopicNotFound"], metrics.Tag("granary.client.failed", "error.type"));
        Assert.Equal(0, metrics.Sum("granary.client.confirmed"));
        Assert.Equal(0, metrics.Sum("granary.client.in_flight"));
    }

    /// <summary>Sums the measurements of the Granary.Client meter whose topic tag is this test's topic.</summary>
    private sealed class TopicMetrics : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(string Instrument, long Value, Dictionary<string, object?> Tags)> _measurements = new();

        public TopicMetrics(string topic)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == GranaryClientMetrics.MeterName) listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                var all = new Dictionary<string, object?>();
                foreach (var tag in tags) all[tag.Key] = tag.Value;
                if (Equals(all.GetValueOrDefault("messaging.destination.name"), topic)) _measurements.Enqueue((instrument.Name, value, all));
            });
            _listener.Start();
        }

        public long Sum(string instrument) => _measurements.Where(m => m.Instrument == instrument).Sum(m => m.Value);

        public string?[] Tag(string instrument, string tag) => [.. _measurements.Where(m => m.Instrument == instrument).Select(m => m.Tags.GetValueOrDefault(tag)?.ToString())];

        public string?[] Groups(string instrument) => Tag(instrument, "messaging.consumer.group.name");

        public void Dispose() => _listener.Dispose();
    }
}
