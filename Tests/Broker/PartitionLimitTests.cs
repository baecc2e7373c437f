using Granary.Grains.Hosting;

namespace Granary.Tests.Broker;

/// <summary>Partition caps per topic and per silo: a request past them is refused whole, with a typed error, before anything is created.</summary>
public sealed class PartitionLimitTests
{
    [Fact]
    public async Task CreateTopic_TenThousandPartitions_IsRefusedUpFront_AndNothingIsCreated()
    {
        using var data = new TempDirectory();
        await using var silo = await SiloOnDirectory.StartAsync(data.Path);
        var error = await Assert.ThrowsAsync<GranaryException>(() => silo.Client.Admin.CreateTopicAsync("wide", new TopicOptions { Partitions = 10_000 }));
        Assert.Equal(GranaryErrorCode.InvalidArgument, error.Code);
        Assert.Contains("MaxPartitionsPerTopic", error.Message, StringComparison.Ordinal);
        Assert.Empty(await silo.Client.Admin.ListTopicsAsync());
        Assert.Equal(GranaryErrorCode.TopicNotFound, (await Assert.ThrowsAsync<GranaryException>(() => silo.Client.Admin.DescribeTopicAsync("wide"))).Code);
        Assert.False(Directory.Exists(Path.Combine(data.Path, "logs")) && Directory.EnumerateFileSystemEntries(Path.Combine(data.Path, "logs")).Any());
        // Within the cap it works.
        await silo.Client.Admin.CreateTopicAsync("wide", new TopicOptions { Partitions = 1_000 });
    }

    [Fact]
    public async Task PartitionsPerSilo_CreateAddAndAlterPastTheCap_AreRefused()
    {
        await using var silo = await OneSiloCluster.StartAsync(granary: o => (o.MaxPartitionsPerSilo, o.MaxPartitionsPerTopic) = (10, 8));
        var admin = silo.Client.Admin;
        await admin.CreateTopicAsync("a", new TopicOptions { Partitions = 6 });
        Assert.Equal(GranaryErrorCode.InvalidArgument, (await Assert.ThrowsAsync<GranaryException>(() => admin.CreateTopicAsync("b", new TopicOptions { Partitions = 5 }))).Code);
        Assert.Equal(GranaryErrorCode.TopicNotFound, (await Assert.ThrowsAsync<GranaryException>(() => admin.DescribeTopicAsync("b"))).Code);
        await admin.CreateTopicAsync("b", new TopicOptions { Partitions = 4 });
        Assert.Equal(GranaryErrorCode.InvalidArgument, (await Assert.ThrowsAsync<GranaryException>(() => admin.AddPartitionsAsync("b", 5))).Code);
        Assert.Equal(GranaryErrorCode.InvalidArgument, (await Assert.ThrowsAsync<GranaryException>(() => admin.AlterTopicAsync("a", c => c with { Partitions = 7 }))).Code);
        Assert.Equal(GranaryErrorCode.InvalidArgument, (await Assert.ThrowsAsync<GranaryException>(() => admin.CreateTopicAsync("c", new TopicOptions { Partitions = 9 }))).Code);
        Assert.Equal((6, 4), ((await admin.DescribeTopicAsync("a")).Config.Partitions, (await admin.DescribeTopicAsync("b")).Config.Partitions));
        // Room comes back when a topic goes.
        await admin.DeleteTopicAsync("a");
        await admin.AddPartitionsAsync("b", 8);
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(10_001, 10)]
    [InlineData(10, 0)]
    public void Options_CapsOutOfRange_AreRefusedAtStartup(int perTopic, int perSilo)
    {
        var result = new GranaryOptionsValidator().Validate(null, new GranaryOptions { MaxPartitionsPerTopic = perTopic, MaxPartitionsPerSilo = perSilo });
        Assert.True(result.Failed);
        Assert.Contains("MaxPartitions", result.FailureMessage, StringComparison.Ordinal);
    }
}
