using Granary.Grains.ConsumerGroups;

namespace Granary.Tests.Grains;

public sealed class OrderedAssignmentTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 3)]
    [InlineData(6, 4)]
    [InlineData(3, 5)]
    [InlineData(100, 7)]
    public void EveryPartitionHasOneOwner_AndOwnersDifferByAtMostOne(int partitions, int members)
    {
        var ids = Enumerable.Range(0, members).Select(i => $"m{i}").ToList();
        var assignment = OrderedAssignment.Assign(new Dictionary<int, string>(), ids, partitions);

        Assert.Equal(Enumerable.Range(0, partitions), assignment.Keys.Order());
        var counts = ids.Select(m => assignment.Values.Count(v => v == m)).ToList();
        Assert.True(counts.Max() - counts.Min() <= 1, string.Join(",", counts));
    }

    [Fact]
    public void AJoiningMember_TakesOnlyWhatBalancingNeeds()
    {
        var before = OrderedAssignment.Assign(new Dictionary<int, string>(), ["a", "b", "c"], 6);
        var after = OrderedAssignment.Assign(before, ["a", "b", "c", "d"], 6);

        var moved = Enumerable.Range(0, 6).Where(p => before[p] != after[p]).ToList();
        Assert.Single(moved);
        Assert.Equal("d", after[moved[0]]);
    }

    [Fact]
    public void ALeavingMember_OnlyItsPartitionsMove()
    {
        var before = OrderedAssignment.Assign(new Dictionary<int, string>(), ["a", "b", "c"], 9);
        var after = OrderedAssignment.Assign(before, ["a", "c"], 9);

        Assert.All(Enumerable.Range(0, 9).Where(p => before[p] != "b"), p => Assert.Equal(before[p], after[p]));
        Assert.DoesNotContain("b", after.Values);
        Assert.Equal(9, after.Count);
    }

    [Fact]
    public void NoMembers_NoAssignment() =>
        Assert.Empty(OrderedAssignment.Assign(new Dictionary<int, string> { [0] = "gone" }, [], 3));
}
