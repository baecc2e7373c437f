namespace Granary.Tests.DeliveryRules;

/// <summary>
/// Take-backs are not deliveries: a message taken back to keep the order (behind a nacked one), or released unseen by
/// a leaving member, comes again with the same attempt number.
/// </summary>
public sealed class TakeBackTests
{
    [Fact]
    public void Ordered_NackTakesBackTheLaterLeases_WithoutCountingThem()
    {
        var h = new DeliveryHarness(DeliveryMode.Ordered, owner: "A");
        h.Append(3);
        var leases = h.Pull("A");
        var result = h.State.Nack("A", [leases[0].Ref], TimeSpan.Zero);
        Assert.Equal([leases[1].Ref, leases[2].Ref], result.Revoked);
        Assert.Equal([(0L, 2), (1L, 1), (2L, 1)], h.Pull("A").Select(l => (l.Offset, l.Attempt)));
    }

    [Fact]
    public void KeyShared_NackTakesBackOnlyTheSameKey()
    {
        var h = new DeliveryHarness(DeliveryMode.KeyShared);
        h.Append(new TestMessage("a"), new TestMessage("b"), new TestMessage("a"));
        var leases = h.Pull("A");
        var result = h.State.Nack("A", [leases[0].Ref], TimeSpan.Zero);
        Assert.Equal([leases[2].Ref], result.Revoked);
        Assert.Equal(1, h.State.InFlightCount); // "b" stays leased
    }

    [Fact]
    public void NackedTogether_EachCountsAsAnAttempt_NoneIsTakenBack()
    {
        var h = new DeliveryHarness(DeliveryMode.Ordered, owner: "A");
        h.Append(2);
        var leases = h.Pull("A");
        var result = h.State.Nack("A", DeliveryHarness.Refs(leases), TimeSpan.Zero);
        Assert.Empty(result.Revoked);
        Assert.Equal([2, 2], h.Pull("A").Select(l => l.Attempt));
    }

    [Fact]
    public void ReleasedUnseen_ComeBackUncounted_AndTheMemberIsRefusedFromThen()
    {
        var h = new DeliveryHarness();
        h.Append(3);
        var leases = h.Pull("A");
        h.State.ReleaseUnseen("A", [leases[1].Ref, leases[2].Ref]);
        Assert.True(h.State.HasDeparted("A"));
        Assert.Equal([(1L, 1), (2L, 1)], h.Pull("B").Select(l => (l.Offset, l.Attempt)));
        Assert.Empty(h.State.Ack("A", [leases[0].Ref])); // what it did see can still be acked
        Assert.Equal(1, h.State.Committed);
    }

    [Fact]
    public void ReleasedUnseen_OfARedelivery_KeepsItsEarlierAttempts()
    {
        var h = new DeliveryHarness();
        h.Append(1);
        h.State.Nack("A", DeliveryHarness.Refs(h.Pull("A")), TimeSpan.Zero);
        var second = h.Pull("A");
        h.State.ReleaseUnseen("A", DeliveryHarness.Refs(second));
        Assert.Equal(1, h.State.AttemptsOf(0));
        Assert.Equal(2, Assert.Single(h.Pull("B")).Attempt);
    }
}
