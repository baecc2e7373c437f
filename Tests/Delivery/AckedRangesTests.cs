using Granary.Grains.Delivery;

namespace Granary.Tests.DeliveryRules;

/// <summary>Acknowledged offsets above the committed offset, kept as ranges.</summary>
public sealed class AckedRangesTests
{
    [Fact]
    public void Adds_MergeIntoRanges()
    {
        var acked = new AckedRanges();
        foreach (long offset in new long[] { 5, 7, 6, 10, 3, 4, 11 }) Assert.True(acked.Add(offset));
        Assert.False(acked.Add(6));
        Assert.Equal(7, acked.Count);
        Assert.Equal(2, acked.RangeCount); // [3, 8) and [10, 12)
        Assert.Equal([3L, 4, 5, 6, 7, 10, 11], acked.Offsets());
        Assert.True(acked.Contains(7) && acked.Contains(10) && !acked.Contains(8) && !acked.Contains(2) && !acked.Contains(12));
    }

    [Fact]
    public void AdvanceFrom_TakesTheRangeStartingThere()
    {
        var acked = new AckedRanges();
        foreach (long offset in new long[] { 1, 2, 4 }) acked.Add(offset);
        Assert.Equal(0, acked.AdvanceFrom(0));
        Assert.Equal(3, acked.AdvanceFrom(1));
        Assert.Equal(1, acked.Count);
        Assert.Equal([4L], acked.Offsets());
    }

    [Fact]
    public void CountBelowAndRemoveBelow_CutInsideARange()
    {
        var acked = new AckedRanges();
        foreach (long offset in new long[] { 1, 2, 3, 6, 7 }) acked.Add(offset);
        Assert.Equal(2, acked.CountBelow(3));
        Assert.Equal(4, acked.CountBelow(7));
        acked.RemoveBelow(2);
        Assert.Equal([2L, 3, 6, 7], acked.Offsets());
        Assert.Equal(4, acked.Count);
        acked.RemoveBelow(7);
        Assert.Equal([7L], acked.Offsets());
        Assert.Equal(1, acked.Count);
    }

    [Fact]
    public void AMillionAcksInOrderWithOneGap_CostOneRange()
    {
        var acked = new AckedRanges();
        for (long offset = 1; offset <= 1_000_000; offset++) acked.Add(offset);
        Assert.Equal(1, acked.RangeCount);
        Assert.Equal(0, acked.AdvanceFrom(0)); // offset 0 is the gap: the committed offset stays
        Assert.Equal(1_000_001, acked.AdvanceFrom(1)); // once 0 is done, one step takes the whole range
        Assert.Equal(0, acked.Count);
    }

    /// <summary>AckedRanges against a SortedSet model, with the grain's call pattern (offsets at or above committed).</summary>
    [Fact]
    public void MatchesASortedSet_UnderRandomOperations()
    {
        for (int seed = 0; seed < 200; seed++)
        {
            var random = new Random(seed);
            var ranges = new AckedRanges();
            var model = new SortedSet<long>();
            long committed = 0;
            for (int step = 0; step < 400; step++)
            {
                int op = random.Next(10);
                if (op < 6)
                {
                    long offset = committed + random.Next(0, 40);
                    if (offset == committed)
                    {
                        // MarkDone's path for the committed offset itself
                        committed = ranges.AdvanceFrom(committed + 1);
                        long c = offset + 1;
                        while (model.Remove(c)) c++;
                        Assert.Equal(c, committed);
                    }
                    else Assert.Equal(model.Add(offset), ranges.Add(offset));
                }
                else if (op < 8)
                {
                    long limit = committed + random.Next(0, 50);
                    Assert.Equal(model.Count(o => o < limit), ranges.CountBelow(limit));
                }
                else
                {
                    long start = committed + random.Next(0, 50);
                    ranges.RemoveBelow(start);
                    model.RemoveWhere(o => o < start);
                    committed = ranges.AdvanceFrom(start);
                    long c = start;
                    while (model.Remove(c)) c++;
                    Assert.Equal(c, committed);
                }
                Assert.Equal(model.Count, ranges.Count);
                Assert.Equal(model, ranges.Offsets());
                for (long o = committed; o < committed + 60; o++) Assert.Equal(model.Contains(o), ranges.Contains(o));
            }
        }
    }
}
