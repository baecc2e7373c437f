using System.Runtime.InteropServices;
using Granary.Client;
using Granary.Grains;
using Granary.Grains.Cursors;
using Granary.Grains.Delivery;
using Granary.Records;

namespace Granary.Benchmarks.Delivery;

/// <summary>
/// One cursor's delivery core driven as <c>PartitionCursorGrain</c> drives it under a steady drain by one member: a
/// fetch decoded into <see cref="BufferedMessage"/> entries and offered, pulls of <see cref="PerPull"/> leased and
/// answered, each pull acknowledged as one run, a save every <see cref="PullsPerSave"/> pulls. The steps are separate
/// methods so that a benchmark can time one of them and leave the others to its setup.
/// </summary>
internal sealed class DeliveryRound
{
    public const int PerPull = 64, PullsPerSave = 16;
    private const string Member = "member-1";
    private static readonly TimeSpan LeaseTime = TimeSpan.FromSeconds(30);

    private readonly DeliveryState _state = new(TimeProvider.System);
    private readonly SampleFetch _fetched = new();
    private readonly List<BufferedMessage> _taken = new(PerPull);
    private readonly List<LeasedRecord> _leases = new(PerPull);
    // One ack run per pull of the last TakeAll, for AckAll.
    private readonly LeaseRun[] _runs = new LeaseRun[SampleFetch.Messages / PerPull + 1];
    private readonly LeaseRun[] _oneRun = new LeaseRun[1];
    private int _runCount;
    private int _pulls;

    public DeliveryRound(DeliveryMode mode)
    {
        _state.Configure(mode, maxDeliveries: 20, owner: mode == DeliveryMode.Ordered ? Member : null);
        _state.Restore(0, [], new Dictionary<long, int>(), new Dictionary<long, long>(), 0, 0, 0);
    }

    /// <summary>How far the group has acknowledged everything.</summary>
    public long Committed => _state.Committed;

    /// <summary>The next fetch (new offsets) decoded and offered, as <c>CursorFetcher</c> does.</summary>
    public void OfferNextFetch()
    {
        long from = _state.FetchOffset;
        _fetched.Restamp(from);
        foreach (var ranged in StoredBatches.Read(_fetched.Bytes, from, from + SampleFetch.Messages))
        {
            if (!_state.IsNew(ranged.Record.Offset)) continue;
            _state.Offer(BufferedMessage.From(ranged), forAnotherGroup: false);
        }
        _state.FetchedTo(from + SampleFetch.Messages);
        _state.TakeOutcome();
    }

    /// <summary>Every ready message leased in pulls, without answers; the runs are kept for <see cref="AckAll"/>.</summary>
    public void TakeAll()
    {
        _runCount = 0;
        while (TakeOne())
            _runs[_runCount++] = new LeaseRun(_leases[0].Offset, _leases[0].LeaseId, _leases.Count);
    }

    /// <summary>Every ready message leased in pulls, each answered as the grain answers a pull (one buffer per pull).</summary>
    public long TakeAndAnswerAll()
    {
        long bytes = 0;
        _runCount = 0;
        while (TakeOne())
        {
            _runs[_runCount++] = new LeaseRun(_leases[0].Offset, _leases[0].LeaseId, _leases.Count);
            // As PartitionCursorGrain.PullRunsAsync answers (what the SDK calls); the codec gives the array back once
            // Orleans has copied it into the outgoing message, which ReturnToPool stands for here.
            var answer = PullAnswer.WriteRuns(0, CollectionsMarshal.AsSpan(_taken), CollectionsMarshal.AsSpan(_leases));
            bytes += answer.Records.Length;
            answer.Records.ReturnToPool();
        }
        _taken.Clear();
        return bytes;
    }

    /// <summary>The runs of the last <see cref="TakeAll"/> acknowledged, one call per pull, with a save every few pulls.</summary>
    public void AckAll()
    {
        for (int i = 0; i < _runCount; i++)
        {
            _oneRun[0] = _runs[i];
            if (_state.AckRuns(Member, _oneRun).Length != 0) throw new InvalidOperationException("An ack was refused.");
            _state.TakeOutcome();
            if (++_pulls % PullsPerSave == 0) _state.TakeChanges();
        }
        _runCount = 0;
    }

    /// <summary>Acknowledges what is still leased and drains what is still ready: nothing ready or in flight after.</summary>
    public void Drain()
    {
        AckAll();
        TakeAll();
        AckAll();
        _taken.Clear();
    }

    /// <summary>A whole round: fetch, pulls, acks and saves, as one member draining the partition.</summary>
    public void FetchPullAck()
    {
        OfferNextFetch();
        while (TakeOne())
        {
            _oneRun[0] = new LeaseRun(_leases[0].Offset, _leases[0].LeaseId, _leases.Count);
            if (_state.AckRuns(Member, _oneRun).Length != 0) throw new InvalidOperationException("An ack was refused.");
            _state.TakeOutcome();
            if (++_pulls % PullsPerSave == 0) _state.TakeChanges();
        }
        _taken.Clear();
    }

    private bool TakeOne()
    {
        _taken.Clear();
        _leases.Clear();
        _state.Take(Member, PerPull, LeaseTime, _taken, _leases);
        _state.TakeOutcome();
        return _leases.Count > 0;
    }
}
