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
        // Warm up (the JIT, the pages and page array a window of 256 needs), then clear it.
        for (long o = 0; o < 320; o++) table.Set(o, o);
        for (long o = 0; o < 320; o++) table.Remove(o);
        long before = GC.GetAllocatedBytesForCurrentThread();
        // A run of deliveries moving on, each acknowledged a little later (as a consumer's window slides).
        for (long o = 320; o < 100_320; o++)
        {
            table.Set(o, o);
            if (o >= 320 + 256) table.Remove(o - 256);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // A new page per 32 offsets would be about 1 MB (3,125 pages of ~300 bytes); a tree node per page ~150 KB.
        Assert.True(allocated < 1_000, $"{allocated} bytes for 100,000 offsets");
        Assert.Equal(256, table.Count);
    }

    /// <summary>
    /// W2's pattern with several cursors: each fetch fills a whole ready set's pages (64) at once and pulls empty them,
    /// many tables at a time. Their slot arrays come round again: nothing is allocated per page once warm (the shared
    /// array pool keeps a few arrays per core, so with a dozen tables most pages were new arrays, plus a tree node and
    /// a page object each).
    /// </summary>
    [Fact]
    public void PagesOfManyTables_FilledAndEmptiedAtOnce_ComeRoundAgain_WithoutAllocating()
    {
        const int Tables = 12, Offsets = 64 * 32, Rounds = 5;
        var tables = Enumerable.Range(0, Tables).Select(_ => new OffsetTable<Probe>()).ToArray();
        long next = 0;
        Round(); // warm up: the slot arrays, each table's page array
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < Rounds; round++) Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{allocated} bytes for {Rounds * Tables * Offsets / 32} pages filled and emptied");
        Assert.All(tables, t => Assert.Equal(0, t.Count));

        void Round()
        {
            long first = next;
            next += Offsets;
            foreach (var table in tables)
            {
                for (long o = first; o < first + Offsets; o++) table.Set(o, new Probe(o));
            }
            foreach (var table in tables)
            {
                long sum = 0;
                foreach (var (offset, value) in table.Entries()) sum += offset - value.Offset;
                if (sum != 0) Assert.Fail("a value is under the wrong offset");
                for (long o = first; o < first + Offsets; o++) table.Remove(o);
            }
        }
    }

    /// <summary>
    /// The page ring against a sorted dictionary, under random adds and removes around a window that moves on (so the
    /// ring wraps), with offsets below it (pages inserted at the bottom and in the middle) and far above it.
    /// </summary>
    [Fact]
    public void MatchesASortedDictionary_UnderRandomSetsAndRemoves_AsTheRingWrapsAndGrows()
    {
        var random = new Random(18);
        var table = new OffsetTable<long>();
        var expected = new SortedDictionary<long, long>();
        long window = 0;
        for (int step = 0; step < 200_000; step++)
        {
            int kind = random.Next(100);
            long offset = kind switch
            {
                < 2 => 1_000_000_000L + random.Next(100_000), // far above
                < 5 => Math.Max(0, window - random.Next(5_000)), // below the window
                _ => window + random.Next(3_000),
            };
            if (random.Next(100) < 55)
            {
                table.Set(offset, step);
                expected[offset] = step;
            }
            else
            {
                var held = expected.Count > 0 && random.Next(2) == 0 ? expected.Keys.ElementAt(random.Next(Math.Min(expected.Count, 50))) : offset;
                Assert.Equal(expected.Remove(held), table.Remove(held));
            }
            if (step % 50 == 0) window += random.Next(200);
            if (step % 40_000 == 39_999)
            {
                foreach (var key in expected.Keys.ToList()) Assert.True(table.Remove(key)); // empties it: the ring starts over
                expected.Clear();
            }
            Assert.Equal(expected.Count, table.Count);
            Assert.Equal(expected.Count == 0 ? (long?)null : expected.Keys.First(), table.Lowest);
            if (step % 997 == 0)
            {
                Assert.Equal(expected.Select(e => (e.Key, e.Value)), table.Entries().Select(e => (e.Offset, e.Value)));
                long probe = window + random.Next(-100, 3_000);
                Assert.Equal(expected.TryGetValue(probe, out long v) ? (true, v) : (false, 0L), table.TryGetValue(probe, out long w) ? (true, w) : (false, 0L));
            }
        }
        table.Clear();
        Assert.Equal((0, (long?)null), (table.Count, table.Lowest));
        Assert.Empty(table.Entries());
        table.Set(7, 7);
        Assert.Equal([(7L, 7L)], table.Entries().Select(e => (e.Offset, e.Value)));
    }

    [Fact]
    public void APageComingOrGoingWhileEnumerated_Throws_NotSkipsOrRepeats()
    {
        var table = new OffsetTable<int>();
        for (int o = 0; o < 100; o++) table.Set(o, o);
        Assert.Throws<InvalidOperationException>(() =>
        {
            foreach (var (offset, _) in table.Entries()) table.Set(offset + 1_000, 0); // a new page
        });
        Assert.Throws<InvalidOperationException>(() =>
        {
            foreach (var (offset, _) in table.Entries())
            {
                for (long o = offset; o < offset + 32; o++) table.Remove(o); // its page goes
            }
        });
    }

    private readonly record struct Probe(long Offset, long A = 0, long B = 0, object? Owner = null);
}
