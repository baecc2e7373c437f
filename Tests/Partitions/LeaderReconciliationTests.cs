using Granary.Grains.Partitions;

namespace Granary.Tests.Partitions;

/// <summary>The decisions a replicated partition's new leader takes, without a cluster.</summary>
public sealed class LeaderReconciliationTests
{
    [Theory]
    [InlineData(0, 0, 1)]
    [InlineData(5, 3, 6)]
    [InlineData(3, 7, 8)] // a replica was promised a newer epoch than the state stored: go above it
    public void NextEpoch_IsAboveTheStoredAndThePromised(long stored, long promised, long expected) =>
        Assert.Equal(expected, LeaderReconciliation.NextEpoch(stored, promised));

    [Fact]
    public void EnoughHoldersReachable_NewPartition_True()
    {
        Assert.True(LeaderReconciliation.EnoughHoldersReachable([], "a", new HashSet<string>(), minReplicas: 2, out int count));
        Assert.Equal(0, count);
    }

    [Fact]
    public void EnoughHoldersReachable_ThreeHoldersMinTwo_OneMayBeMissing()
    {
        string[] holders = ["a", "b", "c"];

        Assert.True(LeaderReconciliation.EnoughHoldersReachable(holders, "a", new HashSet<string> { "b" }, 2, out int two));
        Assert.Equal(2, two);
        Assert.False(LeaderReconciliation.EnoughHoldersReachable(holders, "a", new HashSet<string>(), 2, out int one));
        Assert.Equal(1, one);
    }

    [Fact]
    public void EnoughHoldersReachable_SelfNotAHolder_CountsOnlyReachableHolders()
    {
        // minReplicas 1: a committed record may be on one holder only, so both must answer; "x" holds nothing.
        Assert.False(LeaderReconciliation.EnoughHoldersReachable(["b", "c"], "a", new HashSet<string> { "b", "x" }, 1, out int count));
        Assert.Equal(1, count);
    }

    [Fact]
    public void MostAdvanced_HighestLastEpochWins_EvenWhenShorter()
    {
        var local = new ReplicaState(0, 100, LastEpoch: 3);
        var chosen = LeaderReconciliation.MostAdvanced("a", local,
            [new("b", new ReplicaState(0, 80, 4)), new("c", new ReplicaState(0, 120, 3))]);

        Assert.Equal("b", chosen.Node);
    }

    [Fact]
    public void MostAdvanced_SameEpoch_LongestWins_LocalWinsTies()
    {
        var local = new ReplicaState(0, 100, 3);

        Assert.Equal("c", LeaderReconciliation.MostAdvanced("a", local, [new("b", new ReplicaState(0, 90, 3)), new("c", new ReplicaState(0, 101, 3))]).Node);
        Assert.Equal("a", LeaderReconciliation.MostAdvanced("a", local, [new("b", new ReplicaState(0, 100, 3))]).Node);
        Assert.Equal("a", LeaderReconciliation.MostAdvanced("a", local, []).Node);
    }

    [Fact]
    public void ShouldHandOver_MovedOrRegrouped()
    {
        Assert.False(LeaderReconciliation.ShouldHandOver(false, ["b", "c"], ["c", "b"]));
        Assert.True(LeaderReconciliation.ShouldHandOver(true, ["b", "c"], ["b", "c"]));
        Assert.True(LeaderReconciliation.ShouldHandOver(false, ["b", "d"], ["b", "c"]));
        Assert.True(LeaderReconciliation.ShouldHandOver(false, ["b", "c"], ["b"]));
    }
}
