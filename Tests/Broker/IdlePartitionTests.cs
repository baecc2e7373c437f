using Granary.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Tests.Broker;

/// <summary>An idle partition deactivates and closes its log, so idle topics hold no open files; the next call brings it back.</summary>
public sealed class IdlePartitionTests
{
    [Fact]
    public async Task AnIdlePartition_ClosesItsLogFiles_AndServesItsMessagesAgainWhenCalled()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("counts open files through /proc/self/fd");
        // The silo runs in this process, so its open files are this process's.
        await using var silo = await OneSiloCluster.StartAsync(
            granary: o => o.IdlePartitionTimeout = TimeSpan.FromSeconds(10), // long enough that a slow machine sees the files open first
            silo: s => s.Services.Configure<Orleans.Configuration.GrainCollectionOptions>(o => o.CollectionQuantum = TimeSpan.FromSeconds(1)));
        string topic = BrokerClusterFixture.UniqueTopic("idle");
        await silo.Client.Admin.CreateTopicAsync(topic);
        await using (var producer = silo.Client.CreateProducer(topic))
            await producer.SendAsync(new OutgoingMessage("kept"u8.ToArray()));
        Assert.NotEmpty(OpenFilesUnder(topic));

        await Eventually.UntilAsync(() => OpenFilesUnder(topic).Count == 0);

        await using var consumer = silo.Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = ClientTestExtensions.NoExpiry });
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync());
        Assert.Equal("kept", Encoding.UTF8.GetString(Assert.Single(received).Payload.Span));
        Assert.NotEmpty(OpenFilesUnder(topic)); // active again while its consumer polls
    }

    /// <summary>This process's open files inside the topic's log directory.</summary>
    private static List<string> OpenFilesUnder(string topic)
    {
        string marker = $"{Path.DirectorySeparatorChar}logs{Path.DirectorySeparatorChar}{Granary.Grains.Partitions.PartitionPaths.EncodeName(topic)}{Path.DirectorySeparatorChar}";
        var open = new List<string>();
        foreach (var fd in Directory.EnumerateFiles("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.Contains(marker, StringComparison.Ordinal)) open.Add(target);
            }
            catch (IOException)
            {
                // closed between listing and reading
            }
        }
        return open;
    }
}
