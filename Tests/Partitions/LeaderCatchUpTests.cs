using Granary.Grains.Partitions;
using Granary.Grains.Replication;
using Granary.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using static Granary.Tests.Storage.LogTestKit;

namespace Granary.Tests.Partitions;

/// <summary>A new leader's log made to agree with the most advanced copy, on two plain logs.</summary>
public sealed class LeaderCatchUpTests
{
    [Fact]
    public async Task RunAsync_DivergentTail_IsCutAndTheCopysRecordsCopied()
    {
        using var localDir = new TempDirectory();
        using var truthDir = new TempDirectory();
        await using var local = await PartitionLog.OpenAsync(localDir.Path, Options());
        await using var truth = await PartitionLog.OpenAsync(truthDir.Path, Options());
        var localEpochs = LeaderEpochs.Load(localDir.Path, NullLogger.Instance);
        var truthEpochs = LeaderEpochs.Load(truthDir.Path, NullLogger.Instance);
        // Both had epoch 1's five records; then the local copy took two records in epoch 2 that were never committed,
        // while the copy that went on leading wrote five in epoch 3.
        await WriteAsync(truth, truthEpochs, 1, "a0", "a1", "a2", "a3", "a4");
        await WriteAsync(truth, truthEpochs, 3, "c5", "c6", "c7", "c8", "c9");
        await WriteAsync(local, localEpochs, 1, "a0", "a1", "a2", "a3", "a4");
        await WriteAsync(local, localEpochs, 2, "x5", "x6");

        await LeaderCatchUp.RunAsync(local, localEpochs, new ReplicaState(truth.StartOffset, truth.EndOffset, truthEpochs.LastEpoch),
            e => EndOfEpoch(truth, truthEpochs, e), (from, bytes) => ReplicaCopy.ReadAsync(truth, truthEpochs, from, bytes));

        Assert.Equal(await ReadAllPayloadsAsync(truth), await ReadAllPayloadsAsync(local));
        Assert.Equal(3, localEpochs.LastEpoch);
        Assert.Equal(10, local.FlushedOffset);
    }

    [Fact]
    public async Task RunAsync_CopyEndsShortOfWhatItClaimed_RefusesToLead()
    {
        using var localDir = new TempDirectory();
        using var truthDir = new TempDirectory();
        await using var local = await PartitionLog.OpenAsync(localDir.Path, Options());
        await using var truth = await PartitionLog.OpenAsync(truthDir.Path, Options());
        var localEpochs = LeaderEpochs.Load(localDir.Path, NullLogger.Instance);
        var truthEpochs = LeaderEpochs.Load(truthDir.Path, NullLogger.Instance);
        await WriteAsync(truth, truthEpochs, 1, "a0", "a1", "a2");

        var refused = await Assert.ThrowsAsync<GranaryException>(() => LeaderCatchUp.RunAsync(local, localEpochs, new ReplicaState(0, 20, 1),
            e => EndOfEpoch(truth, truthEpochs, e), (from, bytes) => ReplicaCopy.ReadAsync(truth, truthEpochs, from, bytes)));

        Assert.Equal(GranaryErrorCode.PartitionUnavailable, refused.Code);
        Assert.Equal(3, local.EndOffset); // what the copy had is kept; the next activation tries again
    }

    [Fact]
    public async Task RunAsync_LocalAlreadyAgrees_CopiesNothing()
    {
        using var localDir = new TempDirectory();
        await using var local = await PartitionLog.OpenAsync(localDir.Path, Options());
        var localEpochs = LeaderEpochs.Load(localDir.Path, NullLogger.Instance);
        await WriteAsync(local, localEpochs, 1, "a0", "a1");
        int reads = 0;

        await LeaderCatchUp.RunAsync(local, localEpochs, new ReplicaState(0, 2, 1),
            e => Task.FromResult(new EpochEnd(1, 2)), (_, _) => { reads++; return Task.FromResult(new ReplicaRead(1, [], 2)); });

        Assert.Equal(0, reads);
        Assert.Equal(["a0", "a1"], await ReadAllPayloadsAsync(local));
    }

    private static async Task WriteAsync(PartitionLog log, LeaderEpochs epochs, long epoch, params string[] payloads)
    {
        epochs.Begin(epoch, log.EndOffset);
        foreach (string payload in payloads) await log.AppendAsync(Batch(payload));
    }

    private static Task<EpochEnd> EndOfEpoch(PartitionLog log, LeaderEpochs epochs, long epoch)
    {
        var (floor, end) = epochs.Floor(epoch, log.EndOffset);
        return Task.FromResult(new EpochEnd(floor, end));
    }
}
