using Granary.Storage;

namespace Granary.Tests.Storage;

/// <summary>The idempotent-producer table's sequence rules, without a log.</summary>
public sealed class ProducerStateTableTests
{
    [Fact]
    public void Check_UnknownProducer_Accepts()
    {
        var table = new ProducerStateTable<string>();

        Assert.Equal(SequenceCheck.Accept, table.Check(7, 0, 3, out var original));
        Assert.Null(original);
    }

    [Fact]
    public void Check_NextSequence_Accepts_GapIsOutOfOrder()
    {
        var table = new ProducerStateTable<string>();
        table.Record(7, 0, 3, baseOffset: 0, timestampMs: 1);

        Assert.Equal(SequenceCheck.Accept, table.Check(7, 3, 1, out _));
        Assert.Equal(SequenceCheck.OutOfOrder, table.Check(7, 4, 1, out _));
    }

    [Fact]
    public async Task Check_Retry_IsDuplicate_AndWaitsForTheFirstAnswer()
    {
        var table = new ProducerStateTable<string>();
        var first = table.Record(7, 0, 3, baseOffset: 10, timestampMs: 1);

        Assert.Equal(SequenceCheck.Duplicate, table.Check(7, 0, 3, out var original));
        Assert.Same(first, original);
        Assert.False(original!.Result!.IsCompleted);
        first.Complete("stored at 10");
        Assert.Equal("stored at 10", await original.Result);
    }

    [Fact]
    public void Check_RetryReachingPastTheLastSequence_AdvancesIt()
    {
        // A batch whose last messages were message-id duplicates: the log shows fewer sequences than were processed.
        var table = new ProducerStateTable<string>();
        table.RecordScanned(7, 0, 1, firstOffset: 0, timestampMs: 1);
        long version = table.Version;

        Assert.Equal(SequenceCheck.Duplicate, table.Check(7, 0, 4, out _));

        Assert.True(table.Version > version);
        Assert.Equal(SequenceCheck.Accept, table.Check(7, 4, 1, out _));
    }

    [Fact]
    public void Check_BatchOlderThanTheOnesKept_IsTooOld()
    {
        var table = new ProducerStateTable<string>();
        for (int i = 0; i < ProducerStateSnapshot.MaxBatchesPerProducer + 1; i++) table.Record(7, i, 1, i, 1);

        Assert.Equal(SequenceCheck.TooOld, table.Check(7, 0, 1, out _));
        Assert.Equal(SequenceCheck.Duplicate, table.Check(7, 1, 1, out _));
    }

    [Fact]
    public void Fail_FirstAttempt_RetriesSeeTheError()
    {
        var table = new ProducerStateTable<string>();
        var first = table.Record(7, 0, 1, 0, 1);

        first.Fail(new IOException("disk"));

        table.Check(7, 0, 1, out var original);
        Assert.IsType<IOException>(original!.Result!.Exception!.InnerException);
    }

    [Fact]
    public void RecordScanned_AlreadyReflected_ChangesNothing()
    {
        var table = new ProducerStateTable<string>();
        table.Record(7, 0, 5, 0, 1);
        long version = table.Version;

        table.RecordScanned(7, 2, 4, 2, 1);

        Assert.Equal(version, table.Version);
    }

    [Fact]
    public void ToSnapshot_ThenLoad_KeepsSequencesAndBatches()
    {
        var table = new ProducerStateTable<string>();
        table.Record(7, 0, 3, 0, 100);
        table.Record(8, 0, 2, -1, 200);

        var loaded = new ProducerStateTable<string>();
        loaded.Load(table.ToSnapshot(coveredOffset: 3));

        Assert.Equal(2, loaded.Count);
        Assert.Equal(SequenceCheck.Accept, loaded.Check(8, 2, 1, out _));
        Assert.Equal(SequenceCheck.Duplicate, loaded.Check(7, 0, 3, out var original));
        Assert.Equal(new ProducerBatchInfo(0, 3, 0, 100), original!.Info);
        Assert.Null(original.Result);
    }

    [Fact]
    public void ExpireIdle_ForgetsOnlyProducersNotSeenSince()
    {
        var table = new ProducerStateTable<string>();
        table.Record(7, 0, 1, 0, timestampMs: 100);
        table.Record(8, 0, 1, 1, timestampMs: 300);

        Assert.Equal(1, table.ExpireIdle(oldestMs: 200));

        Assert.Equal(SequenceCheck.Accept, table.Check(7, 0, 1, out _));
        Assert.Equal(SequenceCheck.Duplicate, table.Check(8, 0, 1, out _));
    }
}
