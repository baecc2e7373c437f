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
}
