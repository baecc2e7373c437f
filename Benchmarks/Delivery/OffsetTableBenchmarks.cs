using BenchmarkDotNet.Attributes;
using Granary.Grains.Delivery;

namespace Granary.Benchmarks.Delivery;

/// <summary>
/// <see cref="OffsetTable{T}"/> (the cursor's ready, in-flight and unread sets) holding 40-byte leases, per offset:
/// runs of consecutive offsets coming and going (the common case: pages reused), lookups, ordered enumeration, and
/// offsets far apart (a page each: the worst case).
/// </summary>
[MemoryDiagnoser]
public class OffsetTableBenchmarks
{
    private const int Offsets = 1000;
    private readonly OffsetTable<Lease> _moving = new();
    private readonly OffsetTable<Lease> _filled = new();
    private readonly OffsetTable<Lease> _scattered = new();
    private readonly Lease _lease = new(id: 1, member: 1, expiresAtMs: 1_700_000_030_000, attempt: 1, messageExpiresAtMs: long.MaxValue, hasKey: false, keyHash: 0);
    private long _next;

    [GlobalSetup]
    public void Setup()
    {
        for (long offset = 0; offset < Offsets; offset++) _filled.Set(offset, _lease);
        SetAndRemoveRun();
        SetAndRemoveScattered();
    }

    /// <summary>Set, then Remove, of 1,000 consecutive offsets, each run after the last (leases of pulls, acked in order).</summary>
    [Benchmark(OperationsPerInvoke = Offsets)]
    public int SetAndRemoveRun()
    {
        long first = _next;
        _next += Offsets;
        for (long offset = first; offset < first + Offsets; offset++) _moving.Set(offset, _lease);
        for (long offset = first; offset < first + Offsets; offset++) _moving.Remove(offset);
        return _moving.Count;
    }

    /// <summary>TryGetValue of 1,000 consecutive offsets held (an ack checking each delivery's lease).</summary>
    [Benchmark(OperationsPerInvoke = Offsets)]
    public long TryGetValueRun()
    {
        long sum = 0;
        for (long offset = 0; offset < Offsets; offset++)
        {
            if (_filled.TryGetValue(offset, out var lease)) sum += lease.Attempt;
        }
        return sum;
    }

    /// <summary>Entries() over 1,000 offsets, ascending (Take walks the ready set this way).</summary>
    [Benchmark(OperationsPerInvoke = Offsets)]
    public long EnumerateEntries()
    {
        long sum = 0;
        foreach (var (offset, lease) in _filled.Entries()) sum += offset + lease.Attempt;
        return sum;
    }

    /// <summary>Set, then Remove, of 1,000 offsets 1,000 apart: a page per offset (pooled slots, a sorted-dictionary node).</summary>
    [Benchmark(OperationsPerInvoke = Offsets)]
    public int SetAndRemoveScattered()
    {
        for (long i = 0; i < Offsets; i++) _scattered.Set(i * 1000, _lease);
        for (long i = 0; i < Offsets; i++) _scattered.Remove(i * 1000);
        return _scattered.Count;
    }
}
