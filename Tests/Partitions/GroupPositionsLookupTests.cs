using Granary.Grains.Partitions;
using Microsoft.Extensions.Logging.Abstractions;

namespace Granary.Tests.Partitions;

/// <summary>How a partition learns its groups' positions for RejectPublish retention, with the topic and cursors faked.</summary>
public sealed class GroupPositionsLookupTests
{
    [Fact]
    public async Task EnsureLoaded_AsksEachGroupOnce_AndConcurrentAppendsShareTheLoad()
    {
        var retention = new PartitionRetention("t", 0, NullLogger.Instance);
        var answer = new TaskCompletionSource<string[]>();
        int topicCalls = 0;
        var asked = new List<string>();
        var lookup = new GroupPositionsLookup(retention, () => { topicCalls++; return answer.Task; },
            group => { asked.Add(group); return Task.FromResult(group == "slow" ? 3L : 8L); }, "t", 0, NullLogger.Instance);

        var first = lookup.EnsureLoadedAsync();
        var second = lookup.EnsureLoadedAsync();
        answer.SetResult(["slow", "fast"]);
        await Task.WhenAll(first, second);
        await lookup.EnsureLoadedAsync();

        Assert.Equal(1, topicCalls);
        Assert.Equal(["slow", "fast"], asked);
        Assert.True(retention.GroupsKnown);
        Assert.Equal(3, retention.KeepFromOffset(0));
    }

    [Fact]
    public async Task EnsureLoaded_ACursorDidNotAnswer_FailsRetriably_AndTheNextAppendAsksAgain()
    {
        var retention = new PartitionRetention("t", 0, NullLogger.Instance);
        bool down = true;
        var lookup = new GroupPositionsLookup(retention, () => Task.FromResult<string[]>(["g"]),
            // Fails before it returns (a grain call fails later): either way the next append must ask again.
            _ => down ? throw new TimeoutException("no answer") : Task.FromResult(5L), "t", 0, NullLogger.Instance);

        var refused = await Assert.ThrowsAsync<GranaryException>(lookup.EnsureLoadedAsync);
        Assert.Equal(GranaryErrorCode.PartitionUnavailable, refused.Code);
        Assert.False(retention.GroupsKnown);
        Assert.Equal(0, retention.KeepFromOffset(0)); // nothing a group may need is deleted meanwhile

        down = false;
        await lookup.EnsureLoadedAsync();
        Assert.Equal(5, retention.KeepFromOffset(0));
    }

    [Fact]
    public async Task RefreshOrKeep_ForgetsDeletedGroups_AndAFailureKeepsThePositions()
    {
        var retention = new PartitionRetention("t", 0, NullLogger.Instance);
        string[] groups = ["old", "new"];
        bool topicDown = false;
        var lookup = new GroupPositionsLookup(retention, () => topicDown ? Task.FromException<string[]>(new TimeoutException()) : Task.FromResult(groups),
            group => Task.FromResult(group == "old" ? 2L : 9L), "t", 0, NullLogger.Instance);
        await lookup.EnsureLoadedAsync();
        Assert.Equal(2, retention.KeepFromOffset(0));

        groups = ["new"];
        await lookup.RefreshOrKeepAsync();
        Assert.Equal(9, retention.KeepFromOffset(0));

        topicDown = true;
        await lookup.RefreshOrKeepAsync(); // reported, not thrown
        Assert.Equal(9, retention.KeepFromOffset(0));
    }
}
