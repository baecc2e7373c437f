namespace Granary.Tests.Broker;

[Collection(BrokerCluster.Name)]
public sealed class CreateIfMissingTests(BrokerClusterFixture fixture)
{
    private GranaryAdmin Admin => fixture.Client.Admin;

    [Fact]
    public async Task CreateTopicIfMissing_RunTwice_CreatesOnceAndSucceedsBothTimes()
    {
        string topic = BrokerClusterFixture.UniqueTopic("ifmissing");
        var options = new TopicOptions { Partitions = 4, RetentionTime = TimeSpan.FromDays(1) };

        Assert.True(await Admin.CreateTopicIfMissingAsync(topic, options));
        Assert.False(await Admin.CreateTopicIfMissingAsync(topic, new TopicOptions { Partitions = 4, RetentionTime = TimeSpan.FromDays(1) }));
        // Unset settings are whatever the topic has: no options at all, or only some of them, are no conflict.
        Assert.False(await Admin.CreateTopicIfMissingAsync(topic));
        Assert.False(await Admin.CreateTopicIfMissingAsync(topic, new TopicOptions { Partitions = 4 }));

        Assert.Equal(4, (await Admin.DescribeTopicAsync(topic)).Config.Partitions);
    }

    [Fact]
    public async Task CreateTopicIfMissing_OtherSettings_TopicAlreadyExistsNamingThem()
    {
        string topic = BrokerClusterFixture.UniqueTopic("ifmissing");
        await Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 4, MaxMessageBytes = 4096 });

        var error = await Assert.ThrowsAsync<GranaryException>(() =>
            Admin.CreateTopicIfMissingAsync(topic, new TopicOptions { Partitions = 2, MaxMessageBytes = 4096, RetentionTime = TimeSpan.FromHours(1) }));

        Assert.Equal(GranaryErrorCode.TopicAlreadyExists, error.Code);
        Assert.Contains("Partitions is 4, not 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("RetentionTime is unset, not 01:00:00", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("MaxMessageBytes", error.Message, StringComparison.Ordinal);
        var overflow = await Assert.ThrowsAsync<GranaryException>(() =>
            Admin.CreateTopicIfMissingAsync(topic, new TopicOptions { Overflow = OverflowPolicy.RejectPublish }));
        Assert.Equal(GranaryErrorCode.TopicAlreadyExists, overflow.Code);
        Assert.Contains("Overflow is DropOldest, not RejectPublish", overflow.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateTopicIfMissing_ConcurrentCalls_AllSucceedAndOneCreates()
    {
        string topic = BrokerClusterFixture.UniqueTopic("ifmissing");

        var calls = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
            Admin.CreateTopicIfMissingAsync(topic, new TopicOptions { Partitions = 3 }))));

        Assert.Equal(1, calls.Count(created => created));
        Assert.Equal(3, (await Admin.DescribeTopicAsync(topic)).Config.Partitions);
    }
}
