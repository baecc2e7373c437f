using BenchmarkDotNet.Attributes;
using Granary.Client;

namespace Granary.Benchmarks.Delivery;

/// <summary>
/// The steps of <see cref="DeliveryStateBenchmarks"/> one at a time, per message: offering a fetch, leasing it in
/// pulls (with and without writing the pulls' answers), acknowledging the pulls' runs. Each invocation is one fetch
/// of 1,000 messages and its iteration setup brings the state to where that step starts (the previous steps done
/// there, uncounted), so an iteration is a single invocation: the Allocated column is exact, the times are of one
/// fetch each and noisier than those of <see cref="DeliveryStateBenchmarks"/>.
/// </summary>
[MemoryDiagnoser]
public class DeliveryStepBenchmarks
{
    private DeliveryRound _round = null!;

    [Params(DeliveryMode.Shared, DeliveryMode.KeyShared)]
    public DeliveryMode Mode { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _round = new DeliveryRound(Mode);
        for (int i = 0; i < 4; i++) _round.FetchPullAck();
    }

    [IterationSetup(Target = nameof(Offer))]
    public void BeforeOffer() => _round.Drain();

    /// <summary>DeliveryState.IsNew and Offer for each record of a fetch, decoded into BufferedMessage entries.</summary>
    [Benchmark(OperationsPerInvoke = SampleFetch.Messages)]
    public void Offer() => _round.OfferNextFetch();

    [IterationSetup(Targets = [nameof(Take), nameof(TakeAndAnswer)])]
    public void BeforeTake()
    {
        _round.Drain();
        _round.OfferNextFetch();
    }

    /// <summary>DeliveryState.Take of a whole fetch in pulls of 64 (leases only).</summary>
    [Benchmark(OperationsPerInvoke = SampleFetch.Messages)]
    public void Take() => _round.TakeAll();

    /// <summary>As <see cref="Take"/>, each pull also answered as PartitionCursorGrain.PullRunsAsync does (PullAnswer.WriteRuns: the records in a pooled array, given back as the codec does after writing; the leases as runs).</summary>
    [Benchmark(OperationsPerInvoke = SampleFetch.Messages)]
    public long TakeAndAnswer() => _round.TakeAndAnswerAll();

    [IterationSetup(Target = nameof(AckRuns))]
    public void BeforeAck()
    {
        _round.Drain();
        _round.OfferNextFetch();
        _round.TakeAll();
    }

    /// <summary>DeliveryState.AckRuns of each pull's run (one call per pull), with a save (TakeChanges) every 16 pulls.</summary>
    [Benchmark(OperationsPerInvoke = SampleFetch.Messages)]
    public void AckRuns() => _round.AckAll();
}
