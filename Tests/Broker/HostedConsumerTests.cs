using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Granary.Tests.Broker;

[Collection(BrokerCluster.Name)]
[Trait("Category", "Integration")]
public sealed class HostedConsumerTests(BrokerClusterFixture fixture)
{
    private GranaryClient Client => fixture.Client;

    [Fact]
    public async Task HostedConsumer_HandlesEveryMessage_InAScopePerMessage_AndLeavesTheGroupWhenTheHostStops()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<Recorder>();
        builder.Services
            .AddGranaryClient(Client)
            .AddGranaryConsumer<RecordingHandler>(topic, "hosted", c => c.AckTimeout = TimeSpan.FromMinutes(10), h => h.MaxConcurrency = 4);
        using var host = builder.Build();
        var recorder = host.Services.GetRequiredService<Recorder>();

        await host.StartAsync();
        await using (var producer = Client.CreateProducer(topic))
        {
            await Task.WhenAll(Enumerable.Range(0, 20).Select(i => producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"m-{i}")))));
        }
        await Eventually.UntilAsync(() => recorder.Handled.Count >= 20);
        await Eventually.UntilAsync(async () => (await Client.Admin.GetLagAsync(topic, "hosted")).TotalLag == 0);
        using (var stopTimeout = new CancellationTokenSource(Eventually.DefaultTimeout)) await host.StopAsync(stopTimeout.Token);

        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"m-{i}").Order(), recorder.Handled.Order());
        Assert.Equal(20, recorder.Disposed); // one handler instance per message, disposed with its scope
        var service = Assert.Single(host.Services.GetServices<IHostedService>().OfType<BackgroundService>());
        Assert.True(service.ExecuteTask!.IsCompletedSuccessfully, $"the consumer service ended with {service.ExecuteTask.Status}");
        Assert.Empty((await Client.Admin.DescribeGroupAsync(topic, "hosted")).Members); // disposed: left the group
    }

    [Fact]
    public async Task HostedConsumer_HostStopsWhileAHandlerRuns_TheHandlerIsCancelledAndAwaited()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<Recorder>();
        builder.Services.AddGranaryClient(Client).AddGranaryConsumer<BlockingHandler>(topic, "hosted", c => c.AckTimeout = TimeSpan.FromMinutes(10));
        using var host = builder.Build();
        var recorder = host.Services.GetRequiredService<Recorder>();

        await host.StartAsync();
        await using (var producer = Client.CreateProducer(topic)) await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes("long")));
        await recorder.Started.Task.WaitAsync(Eventually.DefaultTimeout);
        using (var stopTimeout = new CancellationTokenSource(Eventually.DefaultTimeout)) await host.StopAsync(stopTimeout.Token);

        Assert.True(recorder.Cancelled.Task.IsCompleted); // saw the host's stop before StopAsync returned
        Assert.Equal(1, (await Client.Admin.GetLagAsync(topic, "hosted")).TotalLag); // not acked: it comes again
    }

    [Fact]
    public async Task AddGranaryClient_UnreachableGateway_FailsTheHostStart()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGranaryClient(o =>
        {
            o.Gateways = ["127.0.0.1:1"];
            o.ConnectTimeout = TimeSpan.FromSeconds(2);
        });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<GranaryException>(() => host.StartAsync());
        Assert.Equal(GranaryErrorCode.PartitionUnavailable, error.Code); // refused: nothing listens at port 1
        Assert.Contains("refused", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddGranaryConsumer_BadNameOrOptions_FailsAtRegistration()
    {
        var services = new ServiceCollection();
        Assert.Throws<GranaryException>(() => services.AddGranaryConsumer<RecordingHandler>("bad topic", "g"));
        Assert.Throws<ArgumentOutOfRangeException>(() => services.AddGranaryConsumer<RecordingHandler>("t", "g", handler: h => h.MaxConcurrency = 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => services.AddGranaryConsumer<RecordingHandler>("t", "g", c => c.MaxPrefetch = 0));
    }

    internal sealed class Recorder
    {
        private int _disposed;
        public ConcurrentQueue<string> Handled { get; } = new();
        public int Disposed => Volatile.Read(ref _disposed);
        public void OnDisposed() => Interlocked.Increment(ref _disposed);
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    internal sealed class RecordingHandler(Recorder recorder) : IMessageHandler, IDisposable
    {
        private bool _used;

        public Task HandleAsync(ReceivedMessage message, CancellationToken cancellationToken)
        {
            Assert.False(_used, "a handler instance was reused");
            _used = true;
            recorder.Handled.Enqueue(Encoding.UTF8.GetString(message.Payload.Span));
            return Task.CompletedTask;
        }

        public void Dispose() => recorder.OnDisposed();
    }

    internal sealed class BlockingHandler(Recorder recorder) : IMessageHandler
    {
        public async Task HandleAsync(ReceivedMessage message, CancellationToken cancellationToken)
        {
            recorder.Started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            finally
            {
                recorder.Cancelled.TrySetResult();
            }
        }
    }
}
