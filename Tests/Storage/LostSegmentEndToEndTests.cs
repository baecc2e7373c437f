using Granary.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Tests.Storage;

/// <summary>
/// Issue 16, item 4 end to end: a segment file deleted between two runs of a silo is a reported gap. The admin API
/// shows it on the partition, a consumer group receives every other message and counts the lost ones as skipped.
/// </summary>
[Trait("Category", "Integration")]
public sealed class LostSegmentEndToEndTests
{
    [Fact]
    public async Task MiddleSegmentDeleted_GroupGetsEveryOtherMessage_CountsTheLostOnesAsSkipped_AndTheTopicShowsTheGap()
    {
        using var data = new TempDirectory();
        const string topic = "gappy";
        const int sent = 400;
        await using (var first = await StartAsync(data.Path))
        {
            await first.Client.Admin.CreateTopicAsync(topic);
            await using var producer = first.Client.CreateProducer(topic);
            for (int i = 0; i < sent; i++) await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"m{i:D4}-{new string('p', 60)}")));
        }

        var logs = Directory.GetFiles(data.Path, "*.log", SearchOption.AllDirectories).Order().ToArray();
        Assert.True(logs.Length >= 4, $"{logs.Length} segments");
        long lostFrom = long.Parse(Path.GetFileNameWithoutExtension(logs[1]), System.Globalization.CultureInfo.InvariantCulture);
        long lostTo = long.Parse(Path.GetFileNameWithoutExtension(logs[2]), System.Globalization.CultureInfo.InvariantCulture);
        File.Delete(logs[1]);

        await using var second = await StartAsync(data.Path);
        await using var consumer = second.Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = ClientTestExtensions.NoExpiry });
        await consumer.StartAsync();
        int expected = sent - (int)(lostTo - lostFrom);
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= expected, onEach: m => m.AckAsync());

        Assert.Equal(expected, received.Count);
        Assert.DoesNotContain(received, m => m.Offset >= lostFrom && m.Offset < lostTo);
        var partition = (await second.Client.Admin.DescribeTopicAsync(topic)).PartitionDetails.Single();
        var gap = Assert.Single(partition.Gaps);
        Assert.Equal((lostFrom, lostTo), (gap.StartOffset, gap.EndOffset));
        await Eventually.UntilAsync(async () =>
        {
            var lag = (await second.Client.Admin.GetLagAsync(topic, "g")).Partitions.Single();
            return lag.Skipped == lostTo - lostFrom && lag.Lag == 0;
        });
    }

    private static Task<OneSiloCluster> StartAsync(string dataDirectory) =>
        OneSiloCluster.StartAsync(
            granary: o => o.DataDirectory = dataDirectory,
            silo: s => s.Services.Configure<PartitionLogOptions>(o => o.SegmentBytes = 4096));
}
