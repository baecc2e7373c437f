using Granary.Client.Internal;

namespace Granary.Tests.Client;

public sealed class UnkeyedPartitionChooserTests
{
    [Fact]
    public void Sticky_StaysOnOnePartition_UntilItsShareIsUsed_ThenMovesToTheNext()
    {
        var chooser = new UnkeyedPartitionChooser(UnkeyedPartitioning.Sticky, stickyBytes: 1000, start: 2);

        int[] chosen = [.. Enumerable.Range(0, 25).Select(_ => chooser.Next(100, partitions: 4))];

        // Ten 100-byte messages fill a 1,000-byte share.
        Assert.Equal([.. Enumerable.Repeat(2, 10), .. Enumerable.Repeat(3, 10), .. Enumerable.Repeat(0, 5)], chosen);
    }

    [Fact]
    public void Sticky_OverManyMessages_GivesEveryPartitionAnEqualShare()
    {
        var chooser = new UnkeyedPartitionChooser(UnkeyedPartitioning.Sticky, stickyBytes: 1000, start: 7);
        var counts = new int[5];

        for (int i = 0; i < 5000; i++) counts[chooser.Next(10, partitions: 5)]++; // shares of 100: ten rounds of all five

        Assert.All(counts, count => Assert.Equal(1000, count));
    }

    [Fact]
    public void Sticky_AMessageLargerThanTheShare_GoesAlone()
    {
        var chooser = new UnkeyedPartitionChooser(UnkeyedPartitioning.Sticky, stickyBytes: 1000, start: 0);

        Assert.Equal([0, 1, 2], new[] { chooser.Next(5000, 3), chooser.Next(5000, 3), chooser.Next(1, 3) });
    }

    [Fact]
    public void Sticky_FollowsTheTopicsPartitionCount_WhenItGrowsOrShrinks()
    {
        var chooser = new UnkeyedPartitionChooser(UnkeyedPartitioning.Sticky, stickyBytes: 100, start: 0);
        var grown = new HashSet<int>();
        for (int i = 0; i < 60; i++) grown.Add(chooser.Next(10, partitions: 6)); // 6 shares of 10 messages

        Assert.Equal([0, 1, 2, 3, 4, 5], grown.Order());
        for (int i = 0; i < 55; i++) chooser.Next(10, partitions: 6); // on partition 5 now
        Assert.Equal(5, chooser.Next(10, partitions: 6));
        Assert.InRange(chooser.Next(10, partitions: 2), 0, 1);
    }

    [Fact]
    public void RoundRobin_MovesOnEveryMessage()
    {
        var chooser = new UnkeyedPartitionChooser(UnkeyedPartitioning.RoundRobin, stickyBytes: 1000, start: 1);

        Assert.Equal([1, 2, 0, 1, 2, 0], Enumerable.Range(0, 6).Select(_ => chooser.Next(100, partitions: 3)));
    }
}
