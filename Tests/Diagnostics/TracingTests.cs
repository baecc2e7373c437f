using System.Collections.Concurrent;
using System.Diagnostics;

namespace Granary.Tests.Diagnostics;

/// <summary>
/// The SDK's activities and the trace context they carry in message headers. An ActivityListener is process-wide:
/// each test samples only activities named after its own topic, so other tests' sends get no activity and no header.
/// </summary>
[Collection(BrokerCluster.Name)]
[Trait("Category", "Integration")]
public sealed class TracingTests(BrokerClusterFixture fixture)
{
    private static readonly TimeSpan NoExpiry = ClientTestExtensions.NoExpiry;

    private GranaryClient Client => fixture.Client;

    /// <summary>Listens to the Granary source, recording the activities of one topic (sampled) and nothing else.</summary>
    private sealed class TopicActivities : IDisposable
    {
        private readonly ActivityListener _listener;

        public TopicActivities(string topic)
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == GranaryTracing.SourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
                    options.Name.EndsWith($" {topic}", StringComparison.Ordinal) ? ActivitySamplingResult.AllDataAndRecorded : ActivitySamplingResult.None,
                ActivityStopped = Stopped.Enqueue,
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public ConcurrentQueue<Activity> Stopped { get; } = new();

        public void Dispose() => _listener.Dispose();
    }

    [Fact]
    public async Task AMessageAtTheTopicsSizeLimit_IsStillAccepted_WhenTracingAddsItsHeaders()
    {
        string topic = BrokerClusterFixture.UniqueTopic("tracing");
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { MaxMessageBytes = 1000 });
        using var activities = new TopicActivities(topic);
        await using var producer = Client.CreateProducer(topic);

        // Checked by the producer and again by the partition: neither counts the trace context against the limit.
        await producer.SendAsync(new OutgoingMessage(new byte[1000]));
        var tooLarge = await Assert.ThrowsAsync<GranaryException>(() => producer.SendAsync(new OutgoingMessage(new byte[1001])));
        Assert.Equal(GranaryErrorCode.MessageTooLarge, tooLarge.Code);

        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry });
        var received = Assert.Single(await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync()));
        Assert.Equal(1000, received.Payload.Length);
        Assert.True(received.Headers.ContainsKey(GranaryHeaders.TraceParent));
    }

    [Fact]
    public async Task WithAListener_ASendRunsInAPublishActivity_WhoseContextTheMessageCarries()
    {
        string topic = BrokerClusterFixture.UniqueTopic("tracing");
        await Client.Admin.CreateTopicAsync(topic);
        using var activities = new TopicActivities(topic);
        SendReceipt sent;
        await using (var producer = Client.CreateProducer(topic))
            sent = await producer.SendAsync(new OutgoingMessage("traced"u8.ToArray()) { MessageId = "m-1" });

        var publish = Assert.Single(activities.Stopped, a => a.OperationName == $"publish {topic}");
        Assert.Equal(ActivityKind.Producer, publish.Kind);
        Assert.Equal("granary", publish.GetTagItem("messaging.system"));
        Assert.Equal(topic, publish.GetTagItem("messaging.destination.name"));
        Assert.Equal("m-1", publish.GetTagItem("messaging.message.id"));
        Assert.Equal(sent.Offset, publish.GetTagItem("messaging.granary.offset"));

        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry });
        var received = Assert.Single(await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync()));
        Assert.Equal(publish.Id, Encoding.ASCII.GetString(received.Headers[GranaryHeaders.TraceParent]));
        var context = GranaryTracing.ExtractContext(received);
        Assert.NotNull(context);
        Assert.Equal(publish.TraceId, context.Value.TraceId);
        Assert.Equal(publish.SpanId, context.Value.SpanId);
        Assert.True(context.Value.IsRemote);
    }

    [Fact]
    public async Task TheHandlerRunner_ProcessesInAConsumerActivity_ChildOfAndLinkedToThePublishActivity()
    {
        string topic = BrokerClusterFixture.UniqueTopic("tracing");
        await Client.Admin.CreateTopicAsync(topic);
        using var activities = new TopicActivities(topic);
        await using (var producer = Client.CreateProducer(topic))
            await producer.SendAsync(new OutgoingMessage("traced"u8.ToArray()));
        var publish = Assert.Single(activities.Stopped, a => a.OperationName == $"publish {topic}");

        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry });
        var handled = new TaskCompletionSource<Activity?>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var running = consumer.RunAsync((message, _) =>
        {
            handled.TrySetResult(Activity.Current);
            return Task.CompletedTask;
        }, cancellationToken: stop.Token);
        var current = await handled.Task.WaitAsync(Eventually.DefaultTimeout);
        await stop.CancelAsync();
        await running;

        // The handler ran inside the process activity.
        Assert.NotNull(current);
        Assert.Equal($"process {topic}", current.OperationName);
        Assert.Equal(ActivityKind.Consumer, current.Kind);
        Assert.Equal(publish.TraceId, current.TraceId);
        Assert.Equal(publish.SpanId, current.ParentSpanId);
        var link = Assert.Single(current.Links);
        Assert.Equal(publish.TraceId, link.Context.TraceId);
        Assert.Equal(publish.SpanId, link.Context.SpanId);
        Assert.Equal("granary", current.GetTagItem("messaging.system"));
        Assert.Equal(topic, current.GetTagItem("messaging.destination.name"));
        Assert.Equal("g", current.GetTagItem("messaging.consumer.group.name"));
        Assert.Equal(0L, current.GetTagItem("messaging.granary.offset"));
        Assert.Contains(activities.Stopped, a => a.OperationName == $"process {topic}" && a.SpanId == current.SpanId);
    }

    [Fact]
    public async Task ATraceparentTheSenderSet_IsKept()
    {
        string topic = BrokerClusterFixture.UniqueTopic("tracing");
        await Client.Admin.CreateTopicAsync(topic);
        using var activities = new TopicActivities(topic);
        const string Own = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        await using (var producer = Client.CreateProducer(topic))
        {
            await producer.SendAsync(new OutgoingMessage("traced"u8.ToArray())
            {
                Headers = new Dictionary<string, byte[]> { [GranaryHeaders.TraceParent] = Encoding.ASCII.GetBytes(Own) },
            });
        }

        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry });
        var received = Assert.Single(await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync()));
        Assert.Equal(Own, Encoding.ASCII.GetString(received.Headers[GranaryHeaders.TraceParent]));
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", GranaryTracing.ExtractContext(received)!.Value.TraceId.ToHexString());
        Assert.Single(activities.Stopped, a => a.OperationName == $"publish {topic}"); // the send itself is still traced
    }

    [Fact]
    public async Task WithNoListener_NoActivityStarts_AndNoHeaderIsAdded()
    {
        string topic = BrokerClusterFixture.UniqueTopic("tracing");
        await Client.Admin.CreateTopicAsync(topic);
        // No test in this process listens to the Granary source outside its own (sequential) collection.
        Assert.False(GranaryTracing.Source.HasListeners());
        await using (var producer = Client.CreateProducer(topic))
            await producer.SendAsync(new OutgoingMessage("untraced"u8.ToArray()) { MessageId = "m-1" });

        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry });
        var received = Assert.Single(await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync()));
        Assert.False(received.Headers.ContainsKey(GranaryHeaders.TraceParent));
        Assert.False(received.Headers.ContainsKey(GranaryHeaders.TraceState));
        Assert.Null(GranaryTracing.ExtractContext(received));
        Assert.Equal("m-1", received.MessageId);
    }
}
