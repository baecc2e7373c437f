namespace Granary.Tests.DeliveryRules;

/// <summary>Attempts are counted per message; one delivered <c>MaxDeliveries</c> times goes to the dead-letter topic.</summary>
public sealed class MaxDeliveriesTests
{
    [Fact]
    public void AfterMaxDeliveries_TheMessageIsDeadLettered_NotDeliveredAgain()
    {
        var h = new DeliveryHarness(maxDeliveries: 2);
        h.Append(2);
        for (int attempt = 1; attempt <= 2; attempt++)
        {
            var leases = h.Pull("A", max: 1);
            Assert.Equal((0, attempt), (leases[0].Offset, leases[0].Attempt));
            h.AdvanceAndTick(DeliveryHarness.Lease);
        }
        h.Outcome();

        var next = Assert.Single(h.Pull("A", max: 1));
        Assert.Equal((1, 1), (next.Offset, next.Attempt)); // offset 0 went the dead-letter way instead
        Assert.True(h.Outcome().DeadLettersQueued);
        var letter = Assert.Single(h.State.NextDeadLetters(10));
        Assert.Equal((0, GranaryHeaders.Reasons.MaxDeliveries, 2), (letter.Message.Offset, letter.Reason, letter.Attempts));

        Assert.Equal((1, 0, 0, 0), h.State.DeadLettersWritten([letter]));
        Assert.Equal(1, h.State.Committed);
        Assert.Equal(1, h.State.DeadLettered);
    }

    [Fact]
    public void NackedDeliveries_CountAsAttempts()
    {
        var h = new DeliveryHarness(maxDeliveries: 2);
        h.Append(1);
        h.State.Nack("A", DeliveryHarness.Refs(h.Pull("A")), TimeSpan.Zero);
        h.State.Nack("A", DeliveryHarness.Refs(h.Pull("A")), TimeSpan.Zero);
        Assert.Empty(h.Pull("A"));
        Assert.Equal(1, h.State.DeadLetterCount);
    }

    [Fact]
    public void NoMaxDeliveries_NeverDeadLetters()
    {
        var h = new DeliveryHarness(maxDeliveries: null);
        h.Append(1);
        for (int attempt = 1; attempt <= 50; attempt++)
            h.State.Nack("A", DeliveryHarness.Refs(h.Pull("A")), TimeSpan.Zero);
        Assert.Equal(51, Assert.Single(h.Pull("A")).Attempt);
        Assert.Equal(0, h.State.DeadLetterCount);
    }

    [Fact]
    public void Rejected_GoesToTheDeadLetterTopic_WithItsAttempts()
    {
        var h = new DeliveryHarness();
        h.Append(1);
        var lease = Assert.Single(h.Pull("A"));
        Assert.Empty(h.State.Reject("A", [lease.Ref]));
        Assert.True(h.Outcome().RefillNeeded); // the letter needs the record, which the lease did not keep
        Assert.Empty(h.State.NextDeadLetters(10));
        h.Refill();
        var letter = Assert.Single(h.State.NextDeadLetters(10));
        Assert.Equal((GranaryHeaders.Reasons.Rejected, 1), (letter.Reason, letter.Attempts));
        Assert.Equal((0, 0, 1, 0), h.State.DeadLettersWritten([letter]));
        Assert.Equal(1, h.State.Committed);
    }

    [Fact]
    public void ALateAck_OfAMessageQueuedForTheDeadLetterTopic_IsRefused_AndTheLetterCounts()
    {
        var h = new DeliveryHarness(maxDeliveries: 1);
        h.Append(1);
        var first = Assert.Single(h.Pull("A"));
        h.AdvanceAndTick(DeliveryHarness.Lease); // A's lease runs out
        Assert.Empty(h.Pull("B")); // attempt 2 > MaxDeliveries 1: on its way to the dead-letter topic, given to nobody
        Assert.Equal(1, h.State.DeadLetterCount);

        // A's handler finishes late. Taking its ack would leave an acknowledged message in the dead-letter topic too.
        Assert.Equal([first.Ref], h.State.Ack("A", [first.Ref]));
        Assert.Equal(0, h.State.Committed);
        var letter = Assert.Single(h.State.NextDeadLetters(10));
        Assert.Equal((1, 0, 0, 0), h.State.DeadLettersWritten([letter]));
        Assert.Equal((1L, 1L), (h.State.Committed, h.State.DeadLettered));
    }

    [Fact]
    public void RestoredAttempts_CountTowardsMaxDeliveries()
    {
        var h = new DeliveryHarness(maxDeliveries: 3);
        h.State.Restore(0, [], new Dictionary<long, int> { [0] = 2 }, new Dictionary<long, long>(), 0, 0, 0);
        Assert.True(h.State.HasRestoredDeliveries);
        h.Append(1);
        Assert.Equal(3, Assert.Single(h.Pull("A")).Attempt);
        h.AdvanceAndTick(DeliveryHarness.Lease);
        Assert.Empty(h.Pull("A"));
        Assert.Equal(1, h.State.DeadLetterCount);
    }
}
