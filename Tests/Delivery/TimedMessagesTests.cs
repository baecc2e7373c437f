namespace Granary.Tests.DeliveryRules;

/// <summary>Delayed delivery (deliver-at) and time to live: expired messages are dead-lettered, or dropped when the topic says so.</summary>
public sealed class TimedMessagesTests
{
    [Fact]
    public void DelayedMessage_IsDeliveredAtItsTime_NotBefore()
    {
        var h = new DeliveryHarness();
        h.Append(new TestMessage(DeliverInMs: 10_000), new TestMessage());
        Assert.True(h.Outcome().TimedMessagesFetched);
        Assert.Equal([1L], h.Pull("A").Select(l => l.Offset));
        h.AdvanceAndTick(TimeSpan.FromMilliseconds(9_999));
        Assert.Empty(h.Pull("A"));
        h.AdvanceAndTick(TimeSpan.FromMilliseconds(1));
        var lease = Assert.Single(h.Pull("A"));
        Assert.Equal((0, 1), (lease.Offset, lease.Attempt));
    }

    [Fact]
    public void ExpiredMessage_WithNoConsumer_IsDeadLetteredByTheTick()
    {
        var h = new DeliveryHarness();
        h.Append(new TestMessage(ExpiresInMs: 1_000));
        h.AdvanceAndTick(TimeSpan.FromMilliseconds(999));
        Assert.Equal(0, h.State.DeadLetterCount);
        h.AdvanceAndTick(TimeSpan.FromMilliseconds(1));
        Assert.True(h.Outcome().DeadLettersQueued);
        var letter = Assert.Single(h.State.NextDeadLetters(10));
        Assert.Equal((GranaryHeaders.Reasons.Expired, 0), (letter.Reason, letter.Attempts));
        Assert.Equal((0, 1, 0, 0), h.State.DeadLettersWritten([letter]));
        Assert.Equal((1L, 1L, 1L), (h.State.Committed, h.State.Expired, h.State.DeadLettered));
    }

    [Fact]
    public void ExpiredMessage_IsNeverPulled_EvenBeforeTheTickSawIt()
    {
        var h = new DeliveryHarness();
        h.Append(new TestMessage(ExpiresInMs: 1_000), new TestMessage());
        h.Clock.Advance(TimeSpan.FromSeconds(2)); // no tick yet
        Assert.Equal([1L], h.Pull("A").Select(l => l.Offset));
        Assert.Equal(0, Assert.Single(h.State.NextDeadLetters(10)).Message.Offset);
    }

    [Fact]
    public void ExpiredMessage_OfADroppingTopic_IsCountedAndSkipped_NotDeadLettered()
    {
        var h = new DeliveryHarness(dropExpired: true);
        h.Append(new TestMessage(ExpiresInMs: 1_000), new TestMessage(ExpiresInMs: 1_000));
        h.AdvanceAndTick(TimeSpan.FromSeconds(1));
        var outcome = h.Outcome();
        Assert.Equal(2, outcome.ExpiredDropped);
        Assert.True(outcome.Changed);
        Assert.Equal((2L, 2L, 0), (h.State.Committed, h.State.Expired, h.State.DeadLetterCount));
    }

    [Fact]
    public void DelayedMessage_ThatExpiresFirst_IsDeadLettered()
    {
        var h = new DeliveryHarness();
        h.Append(new TestMessage(ExpiresInMs: 1_000, DeliverInMs: 5_000));
        h.AdvanceAndTick(TimeSpan.FromSeconds(1));
        Assert.Equal(0, h.State.DelayedCount);
        Assert.Equal(GranaryHeaders.Reasons.Expired, Assert.Single(h.State.NextDeadLetters(10)).Reason);
    }

    [Fact]
    public void LeasedMessage_ThatExpires_IsDeadLetteredWhenItsLeaseRunsOut()
    {
        var h = new DeliveryHarness();
        h.Append(new TestMessage(ExpiresInMs: 10_000));
        Assert.Single(h.Pull("A"));
        h.AdvanceAndTick(TimeSpan.FromSeconds(10));
        Assert.Equal(1, h.State.InFlightCount); // the member may still ack it
        h.AdvanceAndTick(DeliveryHarness.Lease);
        var letter = Assert.Single(h.State.NextDeadLetters(10));
        Assert.Equal((GranaryHeaders.Reasons.Expired, 1), (letter.Reason, letter.Attempts));
    }
}
