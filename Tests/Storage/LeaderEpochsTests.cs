using Granary.Grains;
using Granary.Grains.Replication;
using Granary.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using static Granary.Tests.Storage.LogTestKit;

namespace Granary.Tests.Storage;

/// <summary>The leader epochs a replica keeps beside its log: how followers find where they diverged, and fencing.</summary>
public sealed class LeaderEpochsTests
{
    [Fact]
    public void EndOf_AnEpoch_IsWhereTheNextOneStarted_OrTheLogEnd()
    {
        using var dir = new TempDirectory();
        var epochs = LeaderEpochs.Load(dir.Path, NullLogger.Instance);
        epochs.Begin(1, 0);
        epochs.Begin(3, 10);
        epochs.Begin(4, 25);

        Assert.Equal(10, epochs.EndOf(1, 40));
        Assert.Equal(10, epochs.EndOf(2, 40)); // an epoch this replica never saw ends where the next one it knows began
        Assert.Equal(25, epochs.EndOf(3, 40));
        Assert.Equal(40, epochs.EndOf(4, 40));
        Assert.Equal(0, epochs.EndOf(0, 40)); // a follower with no epochs agrees on nothing
    }

    [Fact]
    public void EpochAt_NamesTheWriter_AndWhereItsRecordsEnd()
    {
        using var dir = new TempDirectory();
        var epochs = LeaderEpochs.Load(dir.Path, NullLogger.Instance);
        epochs.Begin(1, 0);
        epochs.Begin(2, 10);
        epochs.Begin(5, 10); // epoch 2 wrote nothing

        Assert.Equal((1L, 10L), epochs.EpochAt(0, 30));
        Assert.Equal((1L, 10L), epochs.EpochAt(9, 30));
        Assert.Equal((5L, 30L), epochs.EpochAt(10, 30));
    }

    [Fact]
    public void TheHistoryAndThePromise_SurviveAReload_AndALowerEpochIsFenced()
    {
        using var dir = new TempDirectory();
        var epochs = LeaderEpochs.Load(dir.Path, NullLogger.Instance);
        Assert.True(epochs.TryPromise(7));
        epochs.Begin(7, 0);
        epochs.Begin(8, 12);
        epochs.TruncateFrom(12);

        var reloaded = LeaderEpochs.Load(dir.Path, NullLogger.Instance);
        Assert.Equal(7, reloaded.Promised);
        Assert.Equal(7, reloaded.LastEpoch);
        Assert.Equal([new EpochStart(7, 0)], reloaded.Entries);
        Assert.False(reloaded.TryPromise(6));
        Assert.True(reloaded.TryPromise(9));
        Assert.Equal(9, LeaderEpochs.Load(dir.Path, NullLogger.Instance).Promised);
    }

    [Fact]
    public void ADamagedFile_LoadsAsAnEmptyHistory()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(Path.Combine(dir.Path, LogFileNames.LeaderEpochs), "garbage\nx y\n");
        var epochs = LeaderEpochs.Load(dir.Path, NullLogger.Instance);
        Assert.Empty(epochs.Entries);
        Assert.Equal(0, epochs.LastEpoch);
    }

    [Fact]
    public async Task ResetTo_EmptiesTheLog_AndItContinuesFromTheNewStart_AfterReopening()
    {
        using var dir = new TempDirectory();
        await using (var log = PartitionLog.Open(dir.Path, Options()))
        {
            await log.AppendAsync(Batch("a", "b", "c"));
            log.ResetTo(100);
            Assert.Equal(100, log.StartOffset);
            Assert.Equal(100, log.EndOffset);
            var appended = await log.AppendAsync(Batch("d"));
            Assert.Equal(100, appended.BaseOffset);
            Assert.Throws<ArgumentOutOfRangeException>(() => log.ResetTo(50));
        }
        await using var reopened = PartitionLog.Open(dir.Path, Options());
        Assert.Equal(100, reopened.StartOffset);
        Assert.Equal([(100L, "d")], await ReadAllAsync(reopened));
    }

    [Fact]
    public void AgreedEnd_FindsTheDivergence_WhenTheAskedEpochIsMissingOnTheOtherSide()
    {
        using var local = new TempDirectory();
        using var source = new TempDirectory();
        var mine = LeaderEpochs.Load(local.Path, NullLogger.Instance);
        mine.Begin(1, 0);
        mine.Begin(3, 8); // epoch 3 wrote 8-11 here and was never committed
        var theirs = LeaderEpochs.Load(source.Path, NullLogger.Instance);
        theirs.Begin(1, 0);
        theirs.Begin(2, 8); // epoch 2 wrote 8-11 there, committed under epoch 4
        theirs.Begin(4, 12);

        var floor = theirs.Floor(mine.LastEpoch, 20);
        Assert.Equal((2L, 12L), floor);
        Assert.Equal(8, mine.AgreedEnd(floor, 12));

        // A follower that is only behind keeps everything.
        var behind = LeaderEpochs.Load(Directory.CreateTempSubdirectory().FullName, NullLogger.Instance);
        behind.Begin(1, 0);
        Assert.Equal(5, behind.AgreedEnd(theirs.Floor(1, 20), 5));
    }

    [Fact]
    public async Task ADivergentCopy_IsCutWhereItsEpochsDiffer_AndCopiedBackToTheLeadersRecords()
    {
        using var leaderDir = new TempDirectory();
        using var followerDir = new TempDirectory();
        await using var leader = PartitionLog.Open(leaderDir.Path, Options());
        await using var follower = PartitionLog.Open(followerDir.Path, Options());
        var leaderEpochs = LeaderEpochs.Load(leaderDir.Path, NullLogger.Instance);
        var followerEpochs = LeaderEpochs.Load(followerDir.Path, NullLogger.Instance);

        // Epoch 1 wrote a, b on both; then epoch 2 wrote x on the follower only, and epoch 3 wrote y, z on the leader.
        leaderEpochs.Begin(1, 0);
        followerEpochs.Begin(1, 0);
        await leader.AppendAsync(Batch("a", "b"));
        await follower.AppendAsync(Batch("a", "b"));
        followerEpochs.Begin(2, 2);
        await follower.AppendAsync(Batch("x"));
        leaderEpochs.Begin(3, 2);
        await leader.AppendAsync(Batch("y", "z"));

        var (epoch, end) = leaderEpochs.Floor(followerEpochs.LastEpoch, leader.EndOffset);
        Assert.True(ReplicaCopy.TruncateToAgreement(follower, followerEpochs, new EpochEnd(epoch, end)));
        Assert.Equal(2, follower.EndOffset);
        Assert.Equal(1, followerEpochs.LastEpoch);

        var read = await ReplicaCopy.ReadAsync(leader, leaderEpochs, follower.EndOffset, 1 << 20);
        Assert.Equal(3, read.Epoch);
        followerEpochs.Begin(read.Epoch, follower.EndOffset);
        await ReplicaCopy.AppendAsync(follower, read.Batches);
        Assert.Equal(await ReadAllAsync(leader), await ReadAllAsync(follower));
        Assert.False(ReplicaCopy.TruncateToAgreement(follower, followerEpochs,
            new EpochEnd(leaderEpochs.Floor(followerEpochs.LastEpoch, leader.EndOffset).Epoch, leader.EndOffset)));
    }

    [Fact]
    public async Task ACut_DeletesTheProducerStateSnapshot_WhichMayDescribeRemovedBatches()
    {
        using var dir = new TempDirectory();
        await using var log = PartitionLog.Open(dir.Path, Options());
        await log.AppendAsync(Batch("a"));
        await log.AppendAsync(Batch("b"));
        File.WriteAllBytes(ProducerStateSnapshot.PathIn(dir.Path), [1, 2, 3]);
        log.TruncateTo(1);
        Assert.False(File.Exists(ProducerStateSnapshot.PathIn(dir.Path)));

        File.WriteAllBytes(ProducerStateSnapshot.PathIn(dir.Path), [1, 2, 3]);
        log.ResetTo(10);
        Assert.False(File.Exists(ProducerStateSnapshot.PathIn(dir.Path)));
    }
}
