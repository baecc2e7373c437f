using Granary.Grains.Cursors;
using Granary.Grains.Delivery;
using Granary.Records;

namespace Granary.Tests.DeliveryRules;

/// <summary>
/// In-flight messages keep no record bytes: a message whose lease ends without an ack goes back without them and is
/// read again from the partition before it goes out, with every ordering rule held meanwhile (Ordered and KeyShared
/// hand out nothing that must come after it; Shared goes on with the others).
/// </summary>
public sealed class RefillTests
{
    private static TestMessage K(string key) => new(key);

    [Fact]
    public void Shared_AReturnedMessage_IsReadAgainBeforeItGoesOut_WhileTheOthersGoOn()
    {
        var h = new DeliveryHarness();
        h.Append(2);
        var first = h.Pull("A", max: 1);
        h.Outcome();
        h.State.Nack("A", DeliveryHarness.Refs(first), TimeSpan.Zero);
        Assert.True(h.Outcome().RefillNeeded);
        Assert.Equal((1, 0L, 0), (h.State.UnreadCount, h.State.RefillFrom, h.State.ReadyCount - 1));
        Assert.True(h.State.IsUnread(0));
        Assert.False(h.State.IsNew(0)); // a forward fetch does not take it as new

        Assert.Equal([1L], h.Pull("B", refill: false).Select(l => l.Offset)); // Shared: the others go on meanwhile
        h.Refill();
        Assert.Equal((0, (long?)null), (h.State.UnreadCount, h.State.RefillFrom));
        Assert.Equal([(0L, 2)], h.Pull("B", refill: false).Select(l => (l.Offset, l.Attempt)));
    }

    [Fact]
    public void Ordered_NothingAfterAnUnreadMessage_GoesOut_UntilItIsReadAgain()
    {
        var h = new DeliveryHarness(DeliveryMode.Ordered, owner: "A");
        h.Append(5);
        Assert.Equal(5, h.Pull("A").Count);
        h.AdvanceAndTick(DeliveryHarness.Lease); // expired together: 0 counted, 1..4 taken back (and read again)
        var again = h.Pull("A");
        h.State.Nack("A", DeliveryHarness.Refs(again), TimeSpan.Zero);
        h.Append(2); // 5, 6: new messages, ready with their bytes
        Assert.Empty(h.Pull("A", refill: false)); // offset 0 waits to be read again: nothing after it goes first

        h.Refill(until: 2); // 0 and 1 read again; 2, 3, 4 still unread
        Assert.Equal([(0L, 3), (1L, 2)], h.Pull("A", refill: false).Select(l => (l.Offset, l.Attempt)));
        h.Refill();
        Assert.Equal([2L, 3L, 4L, 5L, 6L], h.Pull("A", refill: false).Select(l => l.Offset));
    }

    [Fact]
    public void KeyShared_AKeyWithAnUnreadMessage_Waits_OtherKeysGoOn()
    {
        var h = new DeliveryHarness(DeliveryMode.KeyShared);
        h.Append(K("a"), K("b"));
        var leases = h.Pull("A");
        h.State.Nack("A", [leases[0].Ref], TimeSpan.Zero); // "a" goes back, unread
        h.Append(K("a"), K("c"));
        Assert.Equal([3L], h.Pull("B", refill: false).Select(l => l.Offset)); // "a" at 2 must not pass 0

        h.Refill();
        Assert.Equal([0L, 2L], h.Pull("B").Select(l => l.Offset));
    }

    [Fact]
    public void KeyShared_AnEarlierMessageOfAKey_GoesOut_WhileALaterOneIsStillUnread()
    {
        var h = new DeliveryHarness(DeliveryMode.KeyShared);
        h.Append(K("a"), K("a"), K("a"));
        h.State.Nack("A", DeliveryHarness.Refs(h.Pull("A")), TimeSpan.Zero); // all three go back, unread
        h.Refill(until: 1); // 0 read again; 1 and 2 not yet
        Assert.Equal([0L], h.Pull("B", refill: false).Select(l => l.Offset));
        h.Refill(until: 2);
        Assert.Equal([1L], h.Pull("B", refill: false).Select(l => l.Offset));
        h.Refill();
        Assert.Equal([2L], h.Pull("B", refill: false).Select(l => l.Offset));
    }

    [Fact]
    public void AMessageNoLongerInThePartition_WhenReadAgain_IsSkippedAsLost()
    {
        var h = new DeliveryHarness();
        h.Append(2);
        var leases = h.Pull("A");
        h.State.Nack("A", [leases[0].Ref], TimeSpan.Zero);
        h.State.Ack("A", [leases[1].Ref]);
        h.Outcome();
        h.State.RefilledTo(0, 1); // the read came back without offset 0
        var outcome = h.Outcome();
        Assert.Equal(1L, outcome.LostSkipped);
        Assert.Equal((1L, 2L, 0), (h.State.Skipped, h.State.Committed, h.State.UnreadCount));
    }

    [Fact]
    public void AMessageThatWentBackBelowARunningRead_IsNotTakenForLost()
    {
        var h = new DeliveryHarness();
        h.Append(3);
        var leases = h.Pull("A");
        h.State.Nack("A", [leases[1].Ref, leases[2].Ref], TimeSpan.Zero); // a read starts at 1...
        h.State.Nack("A", [leases[0].Ref], TimeSpan.Zero); // ...and 0 goes back while it runs
        h.State.RefilledTo(1, 3); // the read returned nothing (its records vanished): 1 and 2 are lost, 0 is not
        Assert.Equal((2L, 1), (h.State.Skipped, h.State.UnreadCount));
        Assert.Equal([(0L, 2)], h.Pull("B").Select(l => (l.Offset, l.Attempt)));
    }

    [Fact]
    public void AnUnreadMessage_ThatExpired_IsDeadLetteredOnceReadAgain()
    {
        var h = new DeliveryHarness();
        h.Append(new TestMessage(ExpiresInMs: 10_000));
        var lease = Assert.Single(h.Pull("A"));
        h.Clock.Advance(TimeSpan.FromSeconds(11));
        h.State.Nack("A", [lease.Ref], TimeSpan.Zero);
        Assert.Equal(0, h.State.DeadLetterCount);
        h.Refill();
        var letter = Assert.Single(h.State.NextDeadLetters(10));
        Assert.Equal((GranaryHeaders.Reasons.Expired, 1, 0L), (letter.Reason, letter.Attempts, letter.Message.Offset));
    }

    [Fact]
    public void Seek_ForgetsUnreadMessages()
    {
        var h = new DeliveryHarness(DeliveryMode.Ordered, owner: "A");
        h.Append(3);
        h.State.Nack("A", DeliveryHarness.Refs(h.Pull("A")), TimeSpan.Zero);
        h.State.Seek(1);
        Assert.Equal((0, (long?)null), (h.State.UnreadCount, h.State.RefillFrom));
        h.Refetch();
        Assert.Equal([(1L, 1), (2L, 1)], h.Pull("A").Select(l => (l.Offset, l.Attempt)));
    }

    [Fact]
    public void AttemptsOfLeasedMessages_AreKeptInTheirLeases_AndSaved()
    {
        var h = new DeliveryHarness();
        h.Append(2);
        h.State.Nack("A", DeliveryHarness.Refs(h.Pull("A", max: 1)), TimeSpan.Zero);
        h.Pull("A"); // 0 (second delivery) and 1
        Assert.Equal((2, 1), (h.State.AttemptsOf(0), h.State.AttemptsOf(1)));
        Assert.Equal(new Dictionary<long, int> { [0] = 2, [1] = 1 }, h.State.CopyAttempts());
        Assert.True(h.State.HasPendingWork);
    }

    [Fact]
    public void AReadAgainMessage_HasABufferOfItsOwn_NotTheWholeRead()
    {
        var h = new DeliveryHarness();
        h.Append(1000); // one stored batch: the grain's read brings it back as one buffer
        var leases = h.Pull("A", max: 1000);
        h.State.Ack("A", DeliveryHarness.Refs(leases.Where(l => l.Offset != 500)));
        h.State.Nack("A", [leases[500].Ref], TimeSpan.Zero);
        h.Refill();
        // The ready set is private; the buffer a held message keeps alive is what this test is about.
        var ready = (ReadySet)typeof(DeliveryState)
            .GetField("_ready", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(h.State)!;
        var message = Assert.Single(ready.Entries()).Value;
        Assert.Equal(RecordBatchCodec.HeaderSizeOf(message.Batch.Span) + message.RecordLength, message.Batch.Length);
    }
}
