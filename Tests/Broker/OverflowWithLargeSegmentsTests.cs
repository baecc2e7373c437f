namespace Granary.Tests.Broker;

/// <summary>RejectPublish with a size limit far below the segment size (1 GiB by default), on the shared cluster.</summary>
[Collection(BrokerCluster.Name)]
public sealed class OverflowWithLargeSegmentsTests(BrokerClusterFixture fixture)
{
    [Fact]
    public async Task RejectPublish_BelowTheSegmentSize_AcceptsWhileTheGroupKeepsUp_AndRefusesOnlyWhenItFallsBehind()
    {
        string topic = BrokerClusterFixture.UniqueTopic("small-limit");
        const int limit = 8_000;
        await fixture.Client.Admin.CreateTopicAsync(topic, new TopicOptions { RetentionBytes = limit, Overflow = OverflowPolicy.RejectPublish });
        var grains = fixture.Cluster.SiloGrainFactory();
        var group = grains.GetGrain<IConsumerGroupGrain>($"{topic}/g");
        await group.JoinAsync("a", new GroupSettings());
        var cursor = grains.GetGrain<IPartitionCursorGrain>($"{topic}/g/0");
        // The partition learns the group's position from the cursor's saves (every 100 ms at most): a send that
        // comes before the news is refused and succeeds on a retry, which the default retries allow for.
        await using var producer = fixture.Client.CreateProducer(topic);

        // Forty rounds of two messages, the group one message behind within a round and caught up between rounds:
        // 40 KB pass through an 8 KB queue, and old data goes.
        for (int round = 0; round < 40; round++)
        {
            // "a" pulls through the grain, not an SDK consumer: it keeps its session (15 s) alive itself.
            Assert.True((await group.HeartbeatAsync("a")).IsMember);
            await producer.SendAsync(new OutgoingMessage(new byte[500]));
            await producer.SendAsync(new OutgoingMessage(new byte[500]));
            var taken = await cursor.PullDecodedAsync("a", 2, ClientTestExtensions.NoExpiry, TimeSpan.FromSeconds(10));
            Assert.Equal(2, taken.Length);
            await cursor.AckAsync("a", [.. taken.Select(d => d.Ref)]);
            // The committed offset reaches the partition with the cursor's next save (at most 100 ms later).
            await Eventually.UntilAsync(async () => (await fixture.Client.Admin.GetLagAsync(topic, "g")).TotalLag == 0);
        }
        var partition = (await fixture.Client.Admin.DescribeTopicAsync(topic)).PartitionDetails.Single();
        Assert.Equal(80, partition.EndOffset);
        Assert.True(partition.StartOffset > 0, "retention deleted nothing");

        // Now the group stops acknowledging: the partition fills up and refuses, and keeps every unacknowledged message.
        await using var impatient = fixture.Client.CreateProducer(topic, new ProducerOptions { MaxRetries = 0 });
        GranaryException? full = null;
        long firstUnacked = partition.EndOffset;
        for (int i = 0; i < 100 && full is null; i++)
        {
            try
            {
                await impatient.SendAsync(new OutgoingMessage(new byte[500]));
            }
            catch (GranaryException e)
            {
                full = e;
            }
        }
        Assert.Equal(GranaryErrorCode.QueueFull, full?.Code);
        Assert.True(full!.IsRetriable);
        var after = (await fixture.Client.Admin.DescribeTopicAsync(topic)).PartitionDetails.Single();
        Assert.True(after.StartOffset <= firstUnacked);
    }
}
