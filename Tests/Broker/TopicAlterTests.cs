namespace Granary.Tests.Broker;

/// <summary>Altering a topic's settings: concurrent changes both survive, and a change made from stale settings is refused.</summary>
[Collection(BrokerCluster.Name)]
public sealed class TopicAlterTests(BrokerClusterFixture fixture)
{
    private GranaryClient Client => fixture.Client;

    [Fact]
    public async Task AChangeMadeWhileAnotherIsBeingComputed_IsReappliedOnTopOfIt_AndNeitherIsLost()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        int computed = 0;
        var altered = await Client.Admin.AlterTopicAsync(topic, current =>
        {
            // The first time, another admin changes the retention between this one's read and its write.
            if (Interlocked.Increment(ref computed) == 1)
                Task.Run(() => Client.Admin.AlterTopicAsync(topic, c => c with { RetentionBytes = 1 << 20 })).GetAwaiter().GetResult();
            return current with { MaxMessageBytes = 4096 };
        });

        Assert.Equal(2, computed); // read again after the other change, and recomputed from it
        Assert.Equal(4096, altered.MaxMessageBytes);
        Assert.Equal(1 << 20, altered.RetentionBytes);
        var stored = (await Client.Admin.DescribeTopicAsync(topic)).Config;
        Assert.Equal(altered, stored);
    }

    [Fact]
    public async Task TheTopicGrain_RefusesAChangeFromSettingsThatAreNoLongerCurrent()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        var grain = fixture.Cluster.SiloGrainFactory().GetGrain<ITopicGrain>(topic);
        var original = await grain.GetConfigAsync();
        var first = await grain.AlterAsync(original, original with { RetentionBytes = 1 << 20 });
        Assert.Equal(1 << 20, first!.RetentionBytes);

        // Derived from the original: it would put RetentionBytes back to none.
        Assert.Null(await grain.AlterAsync(original, original with { MaxMessageBytes = 4096 }));
        Assert.Equal(first, await grain.GetConfigAsync());
        // The same change again (a retry) is no conflict: it is in force already.
        Assert.Equal(first, await grain.AlterAsync(original, first));
    }
}
