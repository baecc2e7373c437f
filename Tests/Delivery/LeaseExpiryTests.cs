namespace Granary.Tests.DeliveryRules;

/// <summary>Leases run out on the clock and the message is delivered again, its attempt counted.</summary>
public sealed class LeaseExpiryTests
{
    [Fact]
    public void ExpiredLease_MessageIsRedelivered_WithTheNextAttempt()
    {
        var h = new DeliveryHarness();
        h.Append(1);
        var first = Assert.Single(h.Pull("A"));
        Assert.Equal(1, first.Attempt);

        h.AdvanceAndTick(DeliveryHarness.Lease - TimeSpan.FromMilliseconds(1));
        Assert.Empty(h.Pull("B"));
        Assert.Equal(1, h.State.InFlightCount);

        h.AdvanceAndTick(TimeSpan.FromMilliseconds(1));
        Assert.True(h.Outcome().Available);
        var second = Assert.Single(h.Pull("B"));
        Assert.Equal((0, 2), (second.Offset, second.Attempt));
        Assert.NotEqual(first.LeaseId, second.LeaseId);
    }

    [Fact]
    public void ExtendedLease_RunsFromTheExtension()
    {
        var h = new DeliveryHarness();
        h.Append(1);
        var lease = Assert.Single(h.Pull("A"));
        h.AdvanceAndTick(TimeSpan.FromSeconds(20));
        Assert.Equal([lease.Ref], h.State.Extend("A", [lease.Ref], TimeSpan.FromSeconds(30)));
        h.AdvanceAndTick(TimeSpan.FromSeconds(29));
        Assert.Equal(1, h.State.InFlightCount);
        h.AdvanceAndTick(TimeSpan.FromSeconds(1));
        Assert.Equal(0, h.State.InFlightCount);
        Assert.Equal(1, h.State.ReadyCount);
    }

    [Fact]
    public void Extend_ByAnotherMemberOrOfAnOldDelivery_ExtendsNothing()
    {
        var h = new DeliveryHarness();
        h.Append(1);
        var lease = Assert.Single(h.Pull("A"));
        Assert.Empty(h.State.Extend("B", [lease.Ref], TimeSpan.FromMinutes(1)));
        Assert.Empty(h.State.Extend("A", [new LeaseRef(0, lease.LeaseId + 1)], TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void MemberLeaving_ItsLeasesComeBack_CountedAsDeliveries_AndItsPullsAreRefused()
    {
        var h = new DeliveryHarness();
        h.Append(2);
        Assert.Equal(2, h.Pull("A").Count);
        h.State.ReleaseMember("A");
        Assert.True(h.State.HasDeparted("A"));
        Assert.Equal([2, 2], h.Pull("B").Select(l => l.Attempt));
    }

    [Fact]
    public void DepartedMembers_AreForgottenAfterFiveMinutes()
    {
        var h = new DeliveryHarness();
        h.State.ReleaseMember("A");
        h.Clock.Advance(TimeSpan.FromMinutes(5));
        h.State.ReleaseMember("B");
        Assert.True(h.State.HasDeparted("A")); // exactly five minutes: still remembered
        h.Clock.Advance(TimeSpan.FromSeconds(1));
        h.State.ReleaseMember("C");
        Assert.False(h.State.HasDeparted("A"));
        Assert.True(h.State.HasDeparted("B"));
    }
}
