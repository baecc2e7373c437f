using Granary.Grains.Delivery;

namespace Granary.Tests.DeliveryRules;

/// <summary>
/// An answer names its delivery's lease: one for an older delivery is refused (stale), one whose lease ended with
/// nobody given the message since still counts, one for a message already done changes nothing.
/// </summary>
public sealed class StaleAckTests
{
    [Fact]
    public void AckOfAnOlderDelivery_IsRefused_AndTheCurrentHoldersAckCounts()
    {
        var h = new DeliveryHarness();
        h.Append(1);
        var first = Assert.Single(h.Pull("A"));
        h.AdvanceAndTick(DeliveryHarness.Lease);
        var second = Assert.Single(h.Pull("B"));

        // Every kind of answer to the older delivery is refused and leaves the new holder's lease alone.
        Assert.Equal([first.Ref], h.State.Ack("A", [first.Ref]));
        Assert.Equal([first.Ref], h.State.Reject("A", [first.Ref]));
        Assert.Equal([first.Ref], h.State.Nack("A", [first.Ref], TimeSpan.Zero).Refused);
        Assert.Empty(h.State.Extend("A", [first.Ref], DeliveryHarness.Lease));
        Assert.Equal([second.Ref], h.State.Ack("A", [second.Ref])); // B's lease id, but not B
        Assert.Equal((0L, 1, 0), (h.State.Committed, h.State.InFlightCount, h.State.DeadLetterCount));

        // B's nack really gives the message back; the next holder's ack settles it.
        Assert.Empty(h.State.Nack("B", [second.Ref], TimeSpan.Zero).Refused);
        var third = Assert.Single(h.Pull("C"));
        Assert.Equal(3, third.Attempt);
        Assert.Empty(h.State.Ack("C", [third.Ref]));
        Assert.Equal(1, h.State.Committed);
    }

    [Fact]
    public void LateAck_AfterTheLeaseEnded_CountsWhileNobodyWasGivenTheMessage()
    {
        var h = new DeliveryHarness();
        h.Append(1);
        var lease = Assert.Single(h.Pull("A"));
        h.AdvanceAndTick(DeliveryHarness.Lease);
        Assert.Equal(LeaseStanding.Ended, h.State.StandingOf("A", lease.Ref));
        Assert.Empty(h.State.Ack("A", [lease.Ref]));
        Assert.Equal(1, h.State.Committed);
        Assert.Empty(h.Pull("B"));
    }

    [Fact]
    public void SecondAck_OfADoneMessage_IsNeitherRefusedNorCountedTwice()
    {
        var h = new DeliveryHarness();
        h.Append(2);
        var leases = h.Pull("A");
        h.State.Ack("A", [leases[1].Ref]);
        Assert.Empty(h.State.Ack("A", [leases[1].Ref]));
        Assert.Equal((0L, 1L), (h.State.Committed, h.State.AckedCount));
    }

    [Fact]
    public void AckOfAnotherMembersLease_IsRefused()
    {
        var h = new DeliveryHarness();
        h.Append(1);
        var lease = Assert.Single(h.Pull("A"));
        Assert.Equal([lease.Ref], h.State.Ack("B", [lease.Ref]));
        Assert.Equal(1, h.State.InFlightCount);
    }

    [Fact]
    public void OutOfOrderAcks_MoveTheCommittedOffsetWhenTheGapCloses()
    {
        var h = new DeliveryHarness();
        h.Append(4);
        var leases = h.Pull("A");
        h.State.Ack("A", [leases[3].Ref, leases[1].Ref]);
        Assert.Equal((0L, 2L), (h.State.Committed, h.State.AckedCount));
        Assert.Equal([1L, 3L], h.State.AckedAbove);
        h.State.Ack("A", [leases[0].Ref]);
        Assert.Equal((2L, 1L), (h.State.Committed, h.State.AckedCount));
        h.State.Ack("A", [leases[2].Ref]);
        Assert.Equal((4L, 0L), (h.State.Committed, h.State.AckedCount));
    }
}
