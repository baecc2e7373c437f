using Granary.Storage;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Replication;

/// <summary>
/// A partition leader's replication: one <see cref="FollowerLink"/> per follower, and the committed offset (high
/// watermark): the highest offset below which <c>MinInSyncReplicas</c> replicas, the leader among them, hold every
/// record durably. Consumers see records below it only, and <see cref="Acks.All"/> appends are confirmed once it passes
/// them. Runs on the leader grain's scheduler, so its state needs no locks.
/// </summary>
internal sealed class PartitionReplicator
{
    private readonly List<FollowerLink> _links = [];
    private readonly Func<long> _localDurableEnd;
    private readonly Action _onCommitted;
    private readonly Action _onDeposed;
    private readonly int _minInSync;
    private readonly List<Task> _running = [];
    private readonly SortedList<long, TaskCompletionSource> _waiters = [];
    private TaskCompletionSource _appended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PartitionReplicator(string name, long epoch, PartitionLog log, LeaderEpochs epochs, int minInSync, long committed,
        Func<long> localDurableEnd, Action onCommitted, Action onDeposed, ILogger logger)
    {
        Name = name;
        Epoch = epoch;
        EpochStart = log.EndOffset;
        _onDeposed = onDeposed;
        Log = log;
        Epochs = epochs;
        _minInSync = minInSync;
        Committed = committed;
        _localDurableEnd = localDurableEnd;
        _onCommitted = onCommitted;
        Logger = logger;
    }

    public string Name { get; }
    public long Epoch { get; }

    /// <summary>Where this leader's epoch starts: records below it were inherited from earlier leaders.</summary>
    public long EpochStart { get; }

    /// <summary>A newer leader fenced a follower: this one no longer leads.</summary>
    public bool Deposed { get; private set; }
    public PartitionLog Log { get; }
    public LeaderEpochs Epochs { get; }
    public ILogger Logger { get; }
    public bool Stopped { get; private set; }

    /// <summary>Records below this are on at least <c>MinInSyncReplicas</c> replicas.</summary>
    public long Committed { get; private set; }

    /// <summary>The followers' nodes and how far each is known to hold the log.</summary>
    public IReadOnlyList<FollowerLink> Followers => _links;

    /// <summary>Replicas reachable now, the leader included.</summary>
    public int HealthyReplicas => 1 + _links.Count(l => l.Healthy);

    /// <summary>Starts streaming to the followers.</summary>
    /// <param name="followers">Each follower, and whether it answered the new leader's fence (it counts as reachable until a call fails).</param>
    public void Start(IEnumerable<(string Node, IPartitionReplicaGrain Replica, bool Reachable)> followers)
    {
        foreach (var (node, replica, reachable) in followers)
        {
            var link = new FollowerLink(this, node, replica, reachable);
            _links.Add(link);
            _running.Add(link.RunAsync());
        }
    }

    /// <summary>A batch was written to the leader's log: followers may copy it now, before the leader's fsync.</summary>
    public void OnAppended()
    {
        var appended = _appended;
        _appended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        appended.TrySetResult();
    }

    /// <summary>Waits until the log ends after <paramref name="offset"/> (or a second passes, so idle links look again).</summary>
    public Task WaitForAppendAsync(long offset) =>
        Log.EndOffset > offset ? Task.CompletedTask
        : _appended.Task.WaitAsync(TimeSpan.FromSeconds(1)).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Current);

    public void OnFollowerProgress() => Recompute();

    public void OnDeposed()
    {
        if (Deposed) return;
        Deposed = true;
        _onDeposed();
    }

    /// <summary>The leader's own fsync advanced.</summary>
    public void OnLocalDurable() => Recompute();

    /// <summary>Completes once <paramref name="endOffset"/> is committed; fails with <see cref="GranaryErrorCode.NotEnoughReplicas"/> after <paramref name="timeout"/>.</summary>
    public async Task WaitCommittedAsync(long endOffset, TimeSpan timeout)
    {
        if (Committed >= endOffset) return;
        if (!_waiters.TryGetValue(endOffset, out var waiter))
        {
            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add(endOffset, waiter);
        }
        try
        {
            await waiter.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new GranaryException(GranaryErrorCode.NotEnoughReplicas,
                $"Partition {Name}: {_minInSync} replicas did not confirm within {timeout} ({HealthyReplicas} reachable); the batch may be stored.");
        }
    }

    private void Recompute()
    {
        Span<long> ends = stackalloc long[_links.Count + 1];
        ends[0] = _localDurableEnd();
        // Raft's rule (its "figure 8"): a follower's copy counts only once it holds this epoch, so what is committed here
        // is on copies whose last epoch beats every older leader's in a later election.
        for (int i = 0; i < _links.Count; i++) ends[i + 1] = _links[i].FollowerEpoch == Epoch ? _links[i].AckedEnd : -1;
        if (ends.Length < _minInSync) return;
        ends.Sort();
        long committed = Math.Min(ends[ends.Length - _minInSync], Log.EndOffset);
        if (committed <= Committed) return;
        Committed = committed;
        while (_waiters.Count > 0 && _waiters.Keys[0] <= committed)
        {
            _waiters.Values[0].TrySetResult();
            _waiters.RemoveAt(0);
        }
        _onCommitted();
    }

    /// <summary>Stops the links (deactivation); waiting appends fail as unconfirmed.</summary>
    public async Task StopAsync()
    {
        Stopped = true;
        OnAppended();
        foreach (var waiter in _waiters.Values)
            waiter.TrySetException(new GranaryException(GranaryErrorCode.PartitionUnavailable, $"Partition {Name} is moving to another silo; retry."));
        _waiters.Clear();
        await Task.WhenAll(_running).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
