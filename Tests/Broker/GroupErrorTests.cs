namespace Granary.Tests.Broker;

/// <summary>Errors about consumer groups carry codes a client can act on.</summary>
[Collection(BrokerCluster.Name)]
public sealed class GroupErrorTests(BrokerClusterFixture fixture)
{
    private GranaryClient Client => fixture.Client;

    [Fact]
    public async Task UnknownGroup_IsGroupNotFound_ForLagDescribeSeekAndRedrive()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);

        var calls = new (string Name, Func<Task> Call)[]
        {
            ("lag", () => Client.Admin.GetLagAsync(topic, "nobody")),
            ("describe", () => Client.Admin.DescribeGroupAsync(topic, "nobody")),
            ("seek", () => Client.Admin.SeekAsync(topic, "nobody", SeekTarget.Earliest)),
            ("redrive", () => Client.Admin.RedriveAsync(topic, "nobody")),
            ("dead letters", () => Client.Admin.ListDeadLettersAsync(topic, "nobody")),
        };
        foreach (var (name, call) in calls)
        {
            var error = await Assert.ThrowsAsync<GranaryException>(call);
            Assert.True(error.Code == GranaryErrorCode.GroupNotFound, $"{name}: {error.Code} {error.Message}");
            Assert.False(error.IsRetriable, name);
            Assert.Contains("'nobody'", error.Message, StringComparison.Ordinal);
        }
    }
}
