namespace Granary.Tests.Broker;

/// <summary>A group created on a full disk fails with <see cref="GranaryErrorCode.DiskFull"/>, and works once space is freed.</summary>
[Trait("Category", "Integration")]
public sealed class GroupDiskFullTests
{
    [Fact]
    public async Task CreatingAGroup_OnAFullDisk_IsDiskFull_AndSucceedsOnceSpaceIsFreed()
    {
        using var disk = TmpfsMount.MountOrSkip(sizeKiB: 8192);
        await using var cluster = await OneSiloCluster.StartAsync(o => o.DataDirectory = disk.Path);
        string topic = BrokerClusterFixture.UniqueTopic();
        await cluster.Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 1 });
        await using (var producer = cluster.Client.CreateProducer(topic))
            await producer.SendAsync(new OutgoingMessage("stored before the disk filled"u8.ToArray()));
        string ballast = Path.Combine(disk.Path, "ballast");
        FillDisk(ballast);

        await using (var refused = cluster.Client.CreateConsumer(topic, "g"))
        {
            var error = await Assert.ThrowsAsync<GranaryException>(() => refused.StartAsync());
            Assert.True(error.Code == GranaryErrorCode.DiskFull, $"{error.Code}: {error.Message}");
            Assert.DoesNotContain("   at ", error.Message, StringComparison.Ordinal);
        }

        File.Delete(ballast);
        await using var consumer = cluster.Client.CreateConsumer(topic, "g", new ConsumerOptions { PollWait = TimeSpan.FromMilliseconds(200) });
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync());
        Assert.Equal("stored before the disk filled", Encoding.UTF8.GetString(received[0].Payload.Span));
    }

    /// <summary>Writes <paramref name="path"/> until the file system has no page left.</summary>
    private static void FillDisk(string path)
    {
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        foreach (int chunk in new[] { 64 * 1024, 4096, 512, 1 })
        {
            var bytes = new byte[chunk];
            try
            {
                while (true) file.Write(bytes);
            }
            catch (IOException)
            {
                // full for chunks of this size; try smaller ones
            }
        }
    }
}
