using Granary.Grains.Delivery;

namespace Granary.Tests.DeliveryRules;

/// <summary>Offsets kept as ranges: the acknowledged offsets above the committed one, and those changed since a save.</summary>
public sealed class OffsetRangesTests
{
    [Fact]
    public void Adds_MergeIntoRanges()
    {
        var acked = new OffsetRanges();
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
        var acked = new OffsetRanges();
        foreach (long offset in new long[] { 1, 2, 4 }) acked.Add(offset);
        Assert.Equal(0, acked.AdvanceFrom(0));
        Assert.Equal(3, acked.AdvanceFrom(1));
        Assert.Equal(1, acked.Count);
        Assert.Equal([4L], acked.Offsets());
    }

    [Fact]
    public void CountBelowAndRemoveBelow_CutInsideARange()
    {
        var acked = new OffsetRanges();
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
        var acked = new OffsetRanges();
        for (long offset = 1; offset <= 1_000_000; offset++) acked.Add(offset);
        Assert.Equal(1, acked.RangeCount);
        Assert.Equal(0, acked.AdvanceFrom(0)); // offset 0 is the gap: the committed offset stays
        Assert.Equal(1_000_001, acked.AdvanceFrom(1)); // once 0 is done, one step takes the whole range
        Assert.Equal(0, acked.Count);
    }

    [Fact]
    public void ScatteredOffsets_EachTakeARange_AndFillingAGapJoinsTheTwoAroundIt()
    {
        var ranges = new OffsetRanges();
        foreach (long offset in new long[] { 40, 10, 30, 20 }) Assert.True(ranges.Add(offset));
        Assert.Equal([(10L, 11L), (20L, 21L), (30L, 31L), (40L, 41L)], ranges.Ranges);
        Assert.True(ranges.Add(21));
        Assert.True(ranges.Add(29));
        Assert.Equal([(10L, 11L), (20L, 22L), (29L, 31L), (40L, 41L)], ranges.Ranges);
        for (long offset = 22; offset < 29; offset++) ranges.Add(offset);
        Assert.Equal([(10L, 11L), (20L, 31L), (40L, 41L)], ranges.Ranges);
        Assert.Equal(13, ranges.Count);
    }

    [Fact]
    public void AdjacentOffsets_InEitherDirection_StayOneRange()
    {
        var ranges = new OffsetRanges();
        for (long offset = 100; offset < 200; offset++) ranges.Add(offset);
        for (long offset = 99; offset >= 50; offset--) ranges.Add(offset);
        Assert.Equal([(50L, 200L)], ranges.Ranges);
        Assert.Equal(150, ranges.Count);
    }

    [Fact]
    public void OverlappingRuns_AddedAgain_ChangeNothing()
    {
        // A pull leases a run and its acks touch the same offsets again (as the cursor's changed set sees them).
        var ranges = new OffsetRanges();
        for (long offset = 0; offset < 64; offset++) ranges.Add(offset);
        for (long offset = 32; offset < 96; offset++) Assert.Equal(offset >= 64, ranges.Add(offset));
        for (long offset = 0; offset < 96; offset += 7) Assert.False(ranges.Add(offset));
        Assert.Equal([(0L, 96L)], ranges.Ranges);
        Assert.Equal(96, ranges.Count);
        ranges.AddRange(90, 120); // overlaps the top range: offset by offset, the overlap counted once
        Assert.Equal([(0L, 120L)], ranges.Ranges);
        Assert.Equal(120, ranges.Count);
    }

    [Fact]
    public void Clear_EmptiesTheSet_AndKeepsItsRoom_SoRefillingAllocatesNothing()
    {
        var ranges = new OffsetRanges();
        for (long offset = 0; offset < 2_000; offset += 2) ranges.Add(offset); // 1,000 scattered: the list grows once
        ranges.Clear();
        Assert.Equal(0, ranges.Count);
        Assert.Equal(0, ranges.RangeCount);
        Assert.Empty(ranges.Offsets());
        Assert.False(ranges.Contains(0));

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 10; round++)
        {
            for (long offset = 10_000; offset < 12_000; offset += 2) ranges.Add(offset);
            for (long offset = 20_000; offset < 120_000; offset++) ranges.Add(offset); // a long run: one range
            ranges.Clear();
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>OffsetRanges against a SortedSet model, with the grain's call pattern (offsets at or above committed).</summary>
    [Fact]
    public void MatchesASortedSet_UnderRandomOperations()
    {
        for (int seed = 0; seed < 200; seed++)
        {
            var random = new Random(seed);
            var ranges = new OffsetRanges();
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
