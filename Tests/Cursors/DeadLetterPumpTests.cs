using Granary.Grains.Cursors;
using Granary.Grains.Delivery;
using DeadLetter = Granary.Grains.Delivery.DeadLetter;
using Granary.Tests.DeliveryRules;
using Microsoft.Extensions.Logging.Abstractions;

namespace Granary.Tests.Cursors;

/// <summary>
/// <see cref="DeadLetterPump"/> on a fake clock: letters are marked written only after their write, in batches of at
/// most <see cref="DeadLetterPump.LettersPerWrite"/>, one write at a time; a failed write is tried again on the next
/// start, and a write begun before a seek marks nothing.
/// </summary>
public sealed class DeadLetterPumpTests
{
    private readonly DeliveryHarness _h = new();
    private readonly DeadLetterPump _pump;
    private readonly List<List<DeadLetter>> _writes = [];
    private readonly Queue<Func<Task>> _answers = [];
    private int _changes;

    public DeadLetterPumpTests() =>
        _pump = new DeadLetterPump(_h.State, Write, () => { _changes++; _h.State.TakeOutcome(); }, NullLogger.Instance, "orders", "billing", 0);

    private Task Write(List<DeadLetter> letters)
    {
        _writes.Add(letters);
        return _answers.TryDequeue(out var answer) ? answer() : Task.CompletedTask;
    }

    /// <summary>Appends <paramref name="count"/> messages that expire, and lets them expire: each is a dead letter.</summary>
    private void Expire(int count)
    {
        _h.Append([.. Enumerable.Range(0, count).Select(_ => new TestMessage(ExpiresInMs: 1000))]);
        _h.AdvanceAndTick(TimeSpan.FromSeconds(1));
        Assert.Equal(count, _h.State.DeadLetterCount);
        _h.Outcome();
    }

    [Fact]
    public void Start_WritesTheQueuedLetters_ThenMarksThemWritten()
    {
        Expire(2);
        _pump.Start();
        Assert.Equal([0L, 1L], Assert.Single(_writes).Select(l => l.Message.Offset));
        Assert.Equal((0, 2L, 2L, 2L), (_h.State.DeadLetterCount, _h.State.DeadLettered, _h.State.Expired, _h.State.Committed));
        Assert.Equal(1, _changes);
    }

    [Fact]
    public void Start_ManyLetters_AreWrittenInBatches()
    {
        Expire(DeadLetterPump.LettersPerWrite + 1);
        _pump.Start();
        Assert.Equal([DeadLetterPump.LettersPerWrite, 1], _writes.Select(w => w.Count));
        Assert.Equal(0, _h.State.DeadLetterCount);
    }

    [Fact]
    public void AWriteThatFails_MarksNothing_AndTheNextStartWritesAgain()
    {
        Expire(1);
        _answers.Enqueue(() => Task.FromException(new GranaryException(GranaryErrorCode.PartitionUnavailable, "moving")));
        _pump.Start();
        Assert.Single(_writes);
        Assert.Equal((1, 0L, 0), (_h.State.DeadLetterCount, _h.State.DeadLettered, _changes));

        _pump.Start(); // the grain's next tick
        Assert.Equal(2, _writes.Count);
        Assert.Equal((0, 1L), (_h.State.DeadLetterCount, _h.State.DeadLettered));
    }

    [Fact]
    public void Start_WhileAWriteRuns_StartsNoSecondOne()
    {
        Expire(1);
        var written = new TaskCompletionSource();
        _answers.Enqueue(() => written.Task);
        _pump.Start();
        _pump.Start();
        Assert.Single(_writes);

        written.SetResult();
        Assert.Equal(0, _h.State.DeadLetterCount);
    }

    [Fact]
    public void AWriteBegunBeforeASeek_MarksNothing()
    {
        Expire(1);
        var written = new TaskCompletionSource();
        _answers.Enqueue(() => written.Task);
        _pump.Start();

        _pump.Seek();
        _h.State.Seek(0); // back to the start: offset 0 is read and expires again, a new letter
        _h.Refetch();
        _h.AdvanceAndTick(TimeSpan.Zero);
        Assert.Equal(1, _h.State.DeadLetterCount);

        written.SetResult(); // the old write: it does not count for the new letter, which is written again
        Assert.Equal(2, _writes.Count);
        Assert.Equal((0, 1L), (_h.State.DeadLetterCount, _h.State.DeadLettered));
    }
}
