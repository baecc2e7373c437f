using Granary.Grains.Delivery;
using Granary.Storage;

namespace Granary.Tests.DeliveryRules;

/// <summary>
/// The cursor saves what changed (<see cref="DeliveryState.TakeChanges"/>) instead of its whole state: replaying the
/// last snapshot and every delta after it must give exactly the state a full snapshot gives, whatever happened between
/// saves. Random runs over every rule that touches saved state (pulls, acks, nacks with and without delay, rejects,
/// extensions, lease expiry, TTL, dead letters, seek, retention gaps, lost records, members leaving, mode changes).
/// </summary>
public sealed class SavedChangesTests
{
    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 200)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void SnapshotPlusDeltas_EqualTheFullState_AfterEveryStep(int seed)
    {
        var random = new Random(seed);
        var mode = (DeliveryMode)random.Next(3);
        int? maxDeliveries = random.Next(4) == 0 ? null : random.Next(1, 5);
        var h = new DeliveryHarness(mode, maxDeliveries, owner: "m0", dropExpired: random.Next(2) == 0);
        var started = h.Clock.GetUtcNow();
        var members = new List<string> { "m0", "m1", "m2" };
        int nextMember = 3;
        var held = new List<(string Member, LeasedRecord Lease)>();
        var snapshot = RoundTrip(h.State.ToSnapshot());
        var deltas = new List<CursorStateDelta>();
        string[] keys = ["k1", "k2", "k3", "k4"];

        for (int step = 0; step < 300; step++)
        {
            int ops = random.Next(1, 4);
            for (int op = 0; op < ops; op++)
            {
                long elapsedMs = (long)(h.Clock.GetUtcNow() - started).TotalMilliseconds;
                int roll = random.Next(100);
                if (roll < 15)
                {
                    h.Append([.. Enumerable.Range(0, random.Next(1, 8)).Select(_ => new TestMessage(
                        Key: random.Next(3) == 0 ? null : keys[random.Next(keys.Length)],
                        ExpiresInMs: random.Next(8) == 0 ? elapsedMs + random.Next(1, 5000) : null,
                        DeliverInMs: random.Next(10) == 0 ? elapsedMs + random.Next(1, 3000) : null))]);
                }
                else if (roll < 35)
                {
                    string member = members[random.Next(members.Count)];
                    foreach (var lease in h.Pull(member, random.Next(1, 10), TimeSpan.FromMilliseconds(random.Next(200, 4000)))) held.Add((member, lease));
                }
                else if (roll < 55) Answer(h, random, held, (m, refs) => h.State.Ack(m, refs));
                else if (roll < 63) Answer(h, random, held, (m, refs) => h.State.Nack(m, refs, random.Next(2) == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(random.Next(1, 3000))));
                else if (roll < 67) Answer(h, random, held, (m, refs) => h.State.Reject(m, refs));
                else if (roll < 71) Answer(h, random, held, (m, refs) => h.State.Extend(m, refs, TimeSpan.FromMilliseconds(random.Next(100, 4000))));
                else if (roll < 85) h.AdvanceAndTick(TimeSpan.FromMilliseconds(random.Next(0, 1500)));
                else if (roll < 90) h.State.DeadLettersWritten(h.State.NextDeadLetters(random.Next(1, 20)));
                else if (roll < 92) h.State.RetainedFrom(h.State.Committed + random.Next(0, 4));
                else if (roll < 94)
                {
                    long from = h.State.Committed + random.Next(-2, 6);
                    h.State.SkipLost(Math.Max(0, from), Math.Max(0, from) + random.Next(1, 4));
                }
                else if (roll < 95)
                {
                    h.State.Seek(Math.Max(0, h.State.Committed + random.Next(-5, 5)));
                    h.Refetch();
                }
                else if (roll < 97)
                {
                    int leaving = random.Next(members.Count);
                    string member = members[leaving];
                    if (random.Next(2) == 0) h.State.ReleaseMember(member);
                    else h.State.ReleaseUnseen(member, [.. held.Where(l => l.Member == member && random.Next(2) == 0).Select(l => l.Lease.Ref)]);
                    members[leaving] = $"m{nextMember++}";
                    if (h.State.Mode == DeliveryMode.Ordered) h.State.Configure(DeliveryMode.Ordered, maxDeliveries, members[0]);
                }
                else if (roll < 98)
                {
                    h.State.Configure((DeliveryMode)random.Next(3), maxDeliveries, members[0]);
                }
                else
                {
                    h.Refetch();
                }
                h.Outcome();
            }

            // The save: a delta, or after a seek a snapshot; now and then a compaction (a snapshot anyway).
            var delta = h.State.TakeChanges();
            if (delta is null || random.Next(20) == 0)
            {
                snapshot = RoundTrip(h.State.ToSnapshot());
                deltas.Clear();
            }
            else
            {
                deltas.Add(RoundTrip(delta));
            }
            var restored = new DeliveryState(h.Clock);
            restored.Restore(snapshot);
            foreach (var saved in deltas) restored.Replay(saved);
            Assert.Equal(Describe(h.State), Describe(restored));
        }
    }

    [Fact]
    public void Seek_AsksForASnapshot_NotADelta()
    {
        var h = new DeliveryHarness();
        h.Append(3);
        h.State.Ack("A", DeliveryHarness.Refs(h.Pull("A", 2)));
        Assert.NotNull(h.State.TakeChanges());
        h.State.Seek(0);
        Assert.Null(h.State.TakeChanges());
        Assert.Empty(Assert.IsType<CursorStateDelta>(h.State.TakeChanges()).Offsets);
    }

    [Fact]
    public void Delta_HoldsOnlyTheOffsetsThatChanged()
    {
        var h = new DeliveryHarness();
        h.Append(100);
        var leases = h.Pull("A", 100);
        h.State.TakeChanges();
        h.State.Ack("A", [leases[50].Ref, leases[60].Ref]);
        var delta = h.State.TakeChanges()!;
        Assert.Equal([(50L, true), (60L, true)], delta.Offsets.Select(o => (o.Offset, o.Acked)));
        Assert.Equal(0, delta.Committed);
    }

    [Fact]
    public void Delta_ListsScatteredAdjacentAndRepeatedChanges_OnceEach_Ascending_WithTheirCurrentStatus()
    {
        var h = new DeliveryHarness();
        h.Append(100);
        var leases = h.Pull("A", 100); // one run leased: offsets 0-99 changed (their attempt)
        var first = h.State.TakeChanges()!;
        Assert.Equal(Enumerable.Range(0, 100).Select(o => ((long)o, false, 1)), first.Offsets.Select(o => (o.Offset, o.Acked, o.Attempts)));

        // Scattered and out of order, an adjacent run acked backwards, one offset changed twice, and the committed
        // offset moving past changes below it.
        long dueMs = h.Clock.GetUtcNow().ToUnixTimeMilliseconds() + 5_000;
        h.State.Ack("A", [leases[90].Ref, leases[50].Ref, leases[85].Ref]);
        h.State.Ack("A", [.. Enumerable.Range(60, 5).Reverse().Select(i => leases[i].Ref)]);
        h.State.Nack("A", [leases[70].Ref], TimeSpan.FromSeconds(5));
        h.State.Ack("A", [.. Enumerable.Range(0, 10).Select(i => leases[i].Ref)]);
        var delta = h.State.TakeChanges()!;

        Assert.Equal(10, delta.Committed);
        Assert.Equal([(50L, true, 0, (long?)null), (60L, true, 0, null), (61L, true, 0, null), (62L, true, 0, null),
                (63L, true, 0, null), (64L, true, 0, null), (70L, false, 1, dueMs), (85L, true, 0, null), (90L, true, 0, null)],
            delta.Offsets.Select(o => (o.Offset, o.Acked, o.Attempts, o.RetryAtMs)));
        Assert.Empty(h.State.TakeChanges()!.Offsets); // cleared by the save
    }

    private static void Answer<T>(DeliveryHarness h, Random random, List<(string Member, LeasedRecord Lease)> held, Func<string, LeaseRef[], T> answer)
    {
        if (held.Count == 0) return;
        string member = held[random.Next(held.Count)].Member;
        var chosen = held.Where(l => l.Member == member && random.Next(3) != 0).ToList();
        answer(member, [.. chosen.Select(l => l.Lease.Ref)]);
        foreach (var lease in chosen) held.Remove(lease);
        if (random.Next(4) == 0) h.Refill();
    }

    /// <summary>Through the codec, as the file holds them.</summary>
    private static CursorStateSnapshot RoundTrip(CursorStateSnapshot snapshot)
    {
        byte[] frame = CursorStateCodec.EncodeSnapshot("t/g/0", snapshot);
        return CursorStateCodec.DecodeSnapshot(frame.AsSpan(CursorStateCodec.HeaderBytes), out _, out string? problem) ?? throw new InvalidDataException(problem);
    }

    private static CursorStateDelta RoundTrip(CursorStateDelta delta)
    {
        byte[] frame = CursorStateCodec.EncodeDelta(delta);
        return CursorStateCodec.DecodeDelta(frame.AsSpan(CursorStateCodec.HeaderBytes), out string? problem) ?? throw new InvalidDataException(problem);
    }

    private static string Describe(DeliveryState state)
    {
        var s = state.ToSnapshot();
        return $"committed {s.Committed}; acked {string.Join(",", s.Acked.Select(r => $"[{r.Start},{r.End})"))}; "
            + $"attempts {string.Join(",", s.Attempts.OrderBy(a => a.Key).Select(a => $"{a.Key}:{a.Value}"))}; "
            + $"retry {string.Join(",", s.RetryAt.OrderBy(a => a.Key).Select(a => $"{a.Key}:{a.Value}"))}; "
            + $"counters {s.Expired}/{s.DeadLettered}/{s.Skipped}";
    }
}
