using Granary.Grains.Partitions;
using Granary.Grains.Replication;
using Granary.Storage;
using Granary.Tests.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Granary.Tests.Partitions;

/// <summary>
/// A replicated partition's leadership without a cluster: the replicas are fakes answering (or not) the new leader's
/// fence, and the leader state sits in memory.
/// </summary>
public sealed class PartitionLeadershipTests
{
    private const string Self = "a";

    [Fact]
    public async Task BecomeLeader_TakesAnEpochAboveStoredAndPromised_StoresItBeforeFencing_AndKeepsEveryHolder()
    {
        using var dir = new TempDirectory();
        await using var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        var epochs = LeaderEpochs.Load(dir.Path, NullLogger.Instance);
        Assert.True(epochs.TryPromise(6));
        var store = new MemoryLeaderStateStore { State = { Epoch = 4, Holders = [Self, "b"] } };
        var b = new FakeReplica { State = new ReplicaState(0, 0, 0), Store = store };
        var leadership = Leadership(store, new() { ["b"] = b });

        await leadership.BecomeLeaderAsync(log, epochs, Config(replicas: 2, minReplicas: 1), Self, [Self, "c"], () => log.FlushedOffset, () => { });
        try
        {
            Assert.Equal(7, store.State.Epoch);
            Assert.Equal(7, b.FencedWith);
            Assert.Equal(7, b.StoredEpochWhenFenced); // a leader that fenced with an epoch it did not store could reuse it
            Assert.Equal([Self, "b", "c"], store.State.Holders);
            Assert.Equal(7, epochs.LastEpoch);
            Assert.True(leadership.Leads);
            Assert.Equal(["c"], leadership.Followers);
        }
        finally
        {
            await leadership.StopAsync();
        }
        Assert.False(leadership.Leads);
        Assert.Null(leadership.Committed);
    }

    [Fact]
    public async Task BecomeLeader_TooFewPreviousHoldersReachable_RefusesWithNotEnoughReplicas()
    {
        using var dir = new TempDirectory();
        await using var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        var epochs = LeaderEpochs.Load(dir.Path, NullLogger.Instance);
        var store = new MemoryLeaderStateStore { State = { Epoch = 1, Holders = [Self, "b", "c"] } };
        var leadership = Leadership(store, new() { ["b"] = new FakeReplica(), ["c"] = new FakeReplica() });

        var refused = await Assert.ThrowsAsync<GranaryException>(() => leadership.BecomeLeaderAsync(log, epochs,
            Config(replicas: 3, minReplicas: 2), Self, [Self, "b", "c"], () => log.FlushedOffset, () => { }));

        Assert.Equal(GranaryErrorCode.NotEnoughReplicas, refused.Code);
        Assert.False(leadership.Leads);
        Assert.Equal([Self, "b", "c"], store.State.Holders); // the holders are kept for the next attempt
    }

    [Fact]
    public async Task EnsureEnoughReplicas_AcksAllWithTooFewReachable_Refuses_ButAcksLeaderIsTaken()
    {
        using var dir = new TempDirectory();
        await using var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        var epochs = LeaderEpochs.Load(dir.Path, NullLogger.Instance);
        var leadership = Leadership(new MemoryLeaderStateStore(), new() { ["b"] = new FakeReplica() });
        await leadership.BecomeLeaderAsync(log, epochs, Config(replicas: 2, minReplicas: 2), Self, [Self, "b"], () => log.FlushedOffset, () => { });
        try
        {
            var refused = Assert.Throws<GranaryException>(() => leadership.EnsureEnoughReplicas(Batch(Acks.All), minReplicas: 2));
            Assert.Equal(GranaryErrorCode.NotEnoughReplicas, refused.Code);
            leadership.EnsureEnoughReplicas(Batch(Acks.Leader), minReplicas: 2);
            Assert.Equal([Self], leadership.InSyncReplicas(Self)!);
            Assert.Equal(0, leadership.Committed); // nothing is committed until a follower reports
        }
        finally
        {
            await leadership.StopAsync();
        }
    }

    [Fact]
    public async Task EnsureEnoughReplicas_ANewerLeaderWasPromised_RefusesEveryAppend()
    {
        using var dir = new TempDirectory();
        await using var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        var epochs = LeaderEpochs.Load(dir.Path, NullLogger.Instance);
        var leadership = Leadership(new MemoryLeaderStateStore(), []);
        await leadership.BecomeLeaderAsync(log, epochs, Config(replicas: 2, minReplicas: 1), Self, [Self], () => log.FlushedOffset, () => { });
        try
        {
            leadership.EnsureEnoughReplicas(Batch(Acks.Leader), minReplicas: 1);
            Assert.True(epochs.TryPromise(2));

            var refused = Assert.Throws<GranaryException>(() => leadership.EnsureEnoughReplicas(Batch(Acks.Leader), minReplicas: 1));
            Assert.Equal(GranaryErrorCode.PartitionUnavailable, refused.Code);
        }
        finally
        {
            await leadership.StopAsync();
        }
    }

    [Fact]
    public async Task NotLeading_AnswersAsASingleCopy()
    {
        var leadership = Leadership(new MemoryLeaderStateStore(), []);

        leadership.EnsureEnoughReplicas(Batch(Acks.All), minReplicas: 3);
        await leadership.WaitCommittedAsync(Batch(Acks.All), 10, TimeSpan.FromMinutes(1)); // completes at once
        Assert.False(leadership.OnLocalDurable());
        Assert.Null(leadership.Committed);
        Assert.Null(leadership.InSyncReplicas(Self));
        Assert.False(leadership.ShouldHandOver(placedElsewhere: true, ["b"]));
    }

    [Fact]
    public async Task ShouldHandOver_WhenPlacedElsewhereOrTheWantedFollowersChanged()
    {
        using var dir = new TempDirectory();
        await using var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        var epochs = LeaderEpochs.Load(dir.Path, NullLogger.Instance);
        var leadership = Leadership(new MemoryLeaderStateStore(), new() { ["b"] = new FakeReplica() });
        await leadership.BecomeLeaderAsync(log, epochs, Config(replicas: 2, minReplicas: 1), Self, [Self, "b"], () => log.FlushedOffset, () => { });
        try
        {
            Assert.False(leadership.ShouldHandOver(placedElsewhere: false, ["b"]));
            Assert.True(leadership.ShouldHandOver(placedElsewhere: false, ["c"]));
            Assert.True(leadership.ShouldHandOver(placedElsewhere: false, ["b", "c"]));
            Assert.True(leadership.ShouldHandOver(placedElsewhere: true, ["b"]));
        }
        finally
        {
            await leadership.StopAsync();
        }
    }

    [Fact]
    public async Task DeleteReplicas_DeletesEveryOtherHoldersCopy_EvenWithOneUnreachable_AndClearsTheState()
    {
        var b = new FakeReplica();
        var c = new FakeReplica { FailDelete = true };
        var store = new MemoryLeaderStateStore { State = { Epoch = 3, Holders = [Self, "b", "c"] } };
        var leadership = Leadership(store, new() { ["b"] = b, ["c"] = c });

        await leadership.DeleteReplicasAsync("inc-1", Self);

        Assert.Equal(["inc-1"], b.Deleted);
        Assert.True(store.Cleared);
    }

    [Fact]
    public async Task DeleteReplicas_NeverReplicated_TouchesNothing()
    {
        var store = new MemoryLeaderStateStore();
        var leadership = Leadership(store, []);

        await leadership.DeleteReplicasAsync("inc-1", Self);

        Assert.False(store.Cleared);
    }

    private static PartitionLeadership Leadership(MemoryLeaderStateStore store, Dictionary<string, FakeReplica> replicas) =>
        new("t", 0, store, node => replicas.TryGetValue(node, out var replica) ? replica : new FakeReplica(), () => { }, NullLogger.Instance);

    private static TopicConfig Config(int replicas, int minReplicas) => new() { ReplicationFactor = replicas, MinInSyncReplicas = minReplicas };

    private static ProduceBatch Batch(Acks acks) => ProduceBatchEncoder.Encode([new Message(null, new byte[1], null)], acks: acks);

    private sealed class MemoryLeaderStateStore : ILeaderStateStore
    {
        public PartitionLeaderState State { get; private set; } = new();
        public int Writes { get; private set; }
        public long LastWrittenEpoch { get; private set; }
        public bool Cleared { get; private set; }

        public Task WriteAsync()
        {
            Writes++;
            LastWrittenEpoch = State.Epoch;
            return Task.CompletedTask;
        }

        public Task ClearAsync()
        {
            Cleared = true;
            State = new PartitionLeaderState();
            return Task.CompletedTask;
        }
    }

    /// <summary>A replica that answers the fence with <see cref="State"/> (unreachable without one) and fails everything else.</summary>
    private sealed class FakeReplica : IPartitionReplicaGrain
    {
        public ReplicaState? State { get; init; }
        public bool FailDelete { get; init; }
        public long FencedWith { get; private set; } = -1;
        public List<string?> Deleted { get; } = [];
        public MemoryLeaderStateStore? Store { get; init; }
        public long StoredEpochWhenFenced { get; private set; } = -1;

        public Task<ReplicaState> FenceAsync(long leaderEpoch)
        {
            FencedWith = leaderEpoch;
            StoredEpochWhenFenced = Store?.LastWrittenEpoch ?? -1;
            return State is { } state ? Task.FromResult(state) : Task.FromException<ReplicaState>(new TimeoutException("unreachable"));
        }

        public Task DeleteAsync(string? incarnation)
        {
            if (FailDelete) return Task.FromException(new TimeoutException("unreachable"));
            Deleted.Add(incarnation);
            return Task.CompletedTask;
        }

        public Task<ReplicaState> AppendAsync(long leaderEpoch, long batchEpoch, long baseOffset, byte[] batches) => Unreachable<ReplicaState>();
        public Task<ReplicaState> ResetAsync(long leaderEpoch, long offset) => Unreachable<ReplicaState>();
        public Task<EpochEnd> EndOfEpochAsync(long leaderEpoch, long epoch) => Unreachable<EpochEnd>();
        public Task<ReplicaState> TruncateToAgreementAsync(long leaderEpoch, EpochEnd leaderEnd) => Unreachable<ReplicaState>();
        public Task<ReplicaRead> ReadAsync(long leaderEpoch, long fromOffset, int maxBytes) => Unreachable<ReplicaRead>();
        public Task ApplyConfigAsync(TopicConfig config) => Task.CompletedTask;

        private static Task<T> Unreachable<T>() => Task.FromException<T>(new TimeoutException("unreachable"));
    }
}
