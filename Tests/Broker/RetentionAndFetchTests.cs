using Granary.Grains.Hosting;
using Granary.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Granary.Tests.Broker;

/// <summary>
/// One silo with 4 KiB segments and a 200 ms retention check, and a call filter that counts the fetches cursors send
/// to partitions.
/// </summary>
public sealed class RetentionAndFetchTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private InProcessTestCluster _cluster = null!;
    private static int _fetches;

    [Fact]
    public async Task TopicRetention_IsAppliedByThePartition_AndANewGroupConsumesWhatRemains()
    {
        var client = GranaryClient.Create(_cluster.Client);
        string topic = BrokerClusterFixture.UniqueTopic();
        await client.Admin.CreateTopicAsync(topic, new TopicOptions { RetentionBytes = 8 * 1024 });
        await using var producer = client.CreateProducer(topic);
        for (int i = 0; i < 100; i++) await producer.SendAsync(new OutgoingMessage(new byte[200]));

        // Retention runs every 200 ms, also while the sends go on: a start offset seen from a pass made before the
        // last sends can move again. Once the whole log is within the retention size, no later pass deletes more.
        PartitionInfo partition = null!;
        await Eventually.UntilAsync(async () =>
        {
            partition = (await client.Admin.DescribeTopicAsync(topic)).PartitionDetails[0];
            return partition.StartOffset > 0 && partition.SizeBytes <= 8 * 1024;
        });
        Assert.True(partition.SizeBytes <= 8 * 1024 + 4096, $"{partition.SizeBytes} bytes kept");

        await using var consumer = client.CreateConsumer(topic, "late", new ConsumerOptions { AckTimeout = TimeSpan.FromMinutes(10) });
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 100 - partition.StartOffset, onEach: m => m.AckAsync());
        Assert.Equal(partition.StartOffset, received.Min(m => m.Offset));
        var cursor = _cluster.SiloGrainFactory().GetGrain<IPartitionCursorGrain>($"{topic}/late/0");
        await Eventually.UntilAsync(async () => await cursor.DescribeAsync() is { InFlight: 0, CommittedOffset: 100 });
    }

    [Fact]
    public async Task IdlePull_LongPollsThePartition_InsteadOfFetchingInALoop()
    {
        var client = GranaryClient.Create(_cluster.Client);
        string topic = BrokerClusterFixture.UniqueTopic();
        await client.Admin.CreateTopicAsync(topic);
        var cursor = _cluster.SiloGrainFactory().GetGrain<IPartitionCursorGrain>($"{topic}/g/0");
        await cursor.DescribeAsync();
        int before = Volatile.Read(ref _fetches);

        Assert.Empty(await cursor.PullDecodedAsync("A", 10, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(2)));

        int fetches = Volatile.Read(ref _fetches) - before;
        Assert.True(fetches < 10, $"{fetches} fetches during one idle 2 s pull");
    }

    public async ValueTask InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(initialSilosCount: 1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddGranary(o =>
            {
                o.DataDirectory = _data.Path;
                o.LeaseCheckInterval = TimeSpan.FromMilliseconds(100);
                o.RetentionCheckInterval = TimeSpan.FromMilliseconds(200);
            }).UseInMemoryReminderService();
            silo.Services.Configure<PartitionLogOptions>(o => o.SegmentBytes = 4096);
            silo.AddIncomingGrainCallFilter(context =>
            {
                if (context.InterfaceMethod?.Name == nameof(IPartitionGrain.FetchAsync)) Interlocked.Increment(ref _fetches);
                return context.Invoke();
            });
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _data.Dispose();
    }
}
