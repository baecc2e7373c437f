using BenchmarkDotNet.Attributes;
using Granary.Client;

namespace Granary.Benchmarks.Delivery;

/// <summary>
/// The cursor's delivery core per message, end to end: a fetch of 1,000 keyed 100-byte records decoded and offered,
/// leased in pulls of 64, each pull acknowledged as one run, a save every 16 pulls (<see cref="DeliveryRound"/>). The
/// Allocated column is what the silo's cursor allocates per message delivered and acknowledged, pull answers
/// excepted (see <see cref="DeliveryStepBenchmarks.TakeAndAnswer"/>).
/// </summary>
[MemoryDiagnoser]
public class DeliveryStateBenchmarks
{
    private DeliveryRound _round = null!;

    [Params(DeliveryMode.Shared, DeliveryMode.KeyShared)]
    public DeliveryMode Mode { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _round = new DeliveryRound(Mode);
        // Warm: the tables' spare pages, the member table, the lists.
        for (int i = 0; i < 4; i++) _round.FetchPullAck();
    }

    /// <summary>Offer, take and ack of one fetch; per message.</summary>
    [Benchmark(OperationsPerInvoke = SampleFetch.Messages)]
    public long FetchPullAck()
    {
        _round.FetchPullAck();
        return _round.Committed;
    }
}
