using System.Diagnostics;

namespace Granary.Tests.Client;

/// <summary>Disposing an idle consumer does not wait out its long polls (issue 20, item 4g).</summary>
[Collection(BrokerCluster.Name)]
[Trait("Category", "Integration")]
public sealed class ConsumerDisposePromptTests(BrokerClusterFixture fixture)
{
    [Fact]
    public async Task Dispose_IdleConsumerWithALongPoll_ReturnsWellBeforeThePollEnds()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await fixture.Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });
        var options = new ConsumerOptions { AckTimeout = ClientTestExtensions.NoExpiry, PollWait = TimeSpan.FromSeconds(20) };
        var consumer = fixture.Client.CreateConsumer(topic, "g", options);
        await consumer.StartAsync();
        // StartAsync returns once joined, with a pull issued to each partition: both long-poll now (the client caps
        // a poll at half its 30 s call timeout: 15 s), on a topic nobody writes to.

        var clock = Stopwatch.StartNew();
        await consumer.DisposeAsync();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"dispose took {clock.Elapsed}");
    }
}
