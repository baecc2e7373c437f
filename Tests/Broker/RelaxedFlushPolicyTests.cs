using Granary.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Tests.Broker;

/// <summary>Under the Interval and None flush policies a confirmed message is delivered without waiting for an fsync.</summary>
public sealed class RelaxedFlushPolicyTests
{
    [Theory]
    [InlineData(FlushPolicy.Interval)]
    [InlineData(FlushPolicy.None)]
    public async Task ConfirmedMessages_AreDelivered_BeforeAnyBackgroundFsync(FlushPolicy policy)
    {
        // A flush interval no test waits out: delivery must not depend on it.
        await using var silo = await OneSiloCluster.StartAsync(silo: s => s.Services.Configure<PartitionLogOptions>(o =>
        {
            o.FlushPolicy = policy;
            o.FlushInterval = TimeSpan.FromMinutes(10);
        }));
        await silo.Client.Admin.CreateTopicAsync("relaxed");
        await using var consumer = silo.Client.CreateConsumer("relaxed", "g", new ConsumerOptions { AckTimeout = ClientTestExtensions.NoExpiry, PollWait = TimeSpan.FromMilliseconds(200) });
        await consumer.StartAsync();
        await using var producer = silo.Client.CreateProducer("relaxed");

        var receipt = await producer.SendAsync(new OutgoingMessage("now"u8.ToArray()));

        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync());
        Assert.Equal(receipt.Offset, Assert.Single(received).Offset);
        Assert.Equal(1, (await silo.Client.Admin.DescribeTopicAsync("relaxed")).PartitionDetails.Single().EndOffset);
    }
}
