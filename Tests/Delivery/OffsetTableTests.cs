using Granary.Grains.Delivery;

namespace Granary.Tests.DeliveryRules;

/// <summary>The paged offset table that holds in-flight and unread messages, and the member numbers of leases.</summary>
public sealed class OffsetTableTests
{
    [Fact]
    public void Values_AcrossPagesAndFarApart_AreKept_InAscendingOrder()
    {
        var table = new OffsetTable<int>();
        long[] offsets = [5_000_000_000, 31, 32, 0, 63, 64, 1_000];
        foreach (long offset in offsets) table.Set(offset, (int)(offset % 1000) + 1);
        Assert.Equal(offsets.Length, table.Count);
        Assert.Equal(offsets.Order(), table.Entries().Select(e => e.Offset));
        Assert.Equal(0L, table.Lowest);
        Assert.True(table.TryGetValue(64, out int value) && value == 65);
        Assert.False(table.Contains(33));
        Assert.Equal([0L, 31L, 32L, 63L], table.Below(64).Select(e => e.Offset));

        table.Set(31, 7); // replaces
        Assert.Equal(offsets.Length, table.Count);
        Assert.True(table.Remove(0));
        Assert.False(table.Remove(0));
        Assert.Equal(31L, table.Lowest);
        foreach (long offset in offsets.Where(o => o != 0)) Assert.True(table.Remove(offset));
        Assert.Equal((0, (long?)null), (table.Count, table.Lowest));
        Assert.Empty(table.Entries());
    }

    [Fact]
    public void MemberNumbers_AreFreedWithTheLastLease_AndReused()
    {
        var members = new MemberTable();
        int a = members.Acquire("A");
        Assert.Equal(a, members.Acquire("A"));
        int b = members.Acquire("B");
        Assert.NotEqual(a, b);
        Assert.Equal(2, members.LeasesOf("A"));
        members.Release(a);
        members.Release(a);
        Assert.False(members.TryGetNumber("A", out _));
        Assert.Equal(0, members.LeasesOf("A"));
        Assert.Equal(a, members.Acquire("C"));
        Assert.True(members.TryGetNumber("B", out int stillB) && stillB == b);
    }

    [Fact]
    public void LeasingAndAckingInRuns_ReusesItsPages()
    {
        var table = new OffsetTable<long>();
        for (long o = 0; o < 64; o++) table.Set(o, o); // warm up (the JIT, the first pages)
        for (long o = 0; o < 64; o++) table.Remove(o);
        long before = GC.GetAllocatedBytesForCurrentThread();
        // A run of deliveries moving on, each acknowledged a little later (as a consumer's window slides).
        for (long o = 64; o < 100_064; o++)
        {
            table.Set(o, o);
            if (o >= 64 + 256) table.Remove(o - 256);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // A new page per 32 offsets would be about 1 MB (3,125 pages of ~300 bytes); reused, the page map's nodes remain.
        Assert.True(allocated < 400_000, $"{allocated} bytes for 100,000 offsets");
        Assert.Equal(256, table.Count);
    }
}
