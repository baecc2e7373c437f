namespace Granary.Tests.DeliveryRules;

/// <summary>Ordered: only the partition's owner takes, and a new owner starts after the old one's leases end.</summary>
public sealed class OrderedTests
{
    [Fact]
    public void OnlyTheOwnerTakes()
    {
        var h = new DeliveryHarness(DeliveryMode.Ordered, owner: "A");
        h.Append(2);
        Assert.Empty(h.Pull("B"));
        Assert.Equal(2, h.Pull("A").Count);
    }

    [Fact]
    public void Handover_NewOwnerWaitsUntilTheOldOwnersLeasesAreAcked()
    {
        var h = new DeliveryHarness(DeliveryMode.Ordered, owner: "A");
        h.Append(4);
        var old = h.Pull("A", max: 2);
        h.State.Configure(DeliveryMode.Ordered, 20, owner: "B");
        Assert.False(h.State.MayTake("B"));
        Assert.Empty(h.Pull("B"));
        Assert.Empty(h.Pull("A")); // no longer the owner

        h.State.Ack("A", [old[0].Ref]);
        Assert.Empty(h.Pull("B"));
        h.State.Ack("A", [old[1].Ref]);
        Assert.True(h.Outcome().Available);
        Assert.Equal([2L, 3L], h.Pull("B").Select(l => l.Offset));
    }

    [Fact]
    public void Handover_RejectingTheOldOwnersLastLease_LetsTheNewOwnerStart()
    {
        var h = new DeliveryHarness(DeliveryMode.Ordered, owner: "A");
        h.Append(2);
        var old = h.Pull("A", max: 1);
        h.State.Configure(DeliveryMode.Ordered, 20, owner: "B");
        h.Outcome();
        Assert.Empty(h.State.Reject("A", DeliveryHarness.Refs(old)));
        Assert.True(h.Outcome().Available);
        Assert.Equal([1L], h.Pull("B").Select(l => l.Offset));
    }

    [Fact]
    public void Handover_OldOwnersExpiredLeases_GoToTheNewOwner()
    {
        var h = new DeliveryHarness(DeliveryMode.Ordered, owner: "A");
        h.Append(3);
        h.Pull("A");
        h.State.Configure(DeliveryMode.Ordered, 20, owner: "B");
        h.AdvanceAndTick(DeliveryHarness.Lease);
        // One pull's leases end together: the lowest counts, the rest were waiting behind it.
        Assert.Equal([(0L, 2), (1L, 1), (2L, 1)], h.Pull("B").Select(l => (l.Offset, l.Attempt)));
    }

    [Fact]
    public void NackWithDelay_HoldsBackEverythingAfterIt()
    {
        var h = new DeliveryHarness(DeliveryMode.Ordered, owner: "A");
        h.Append(3);
        var leases = h.Pull("A");
        var result = h.State.Nack("A", [leases[0].Ref], TimeSpan.FromSeconds(5));
        Assert.Equal([leases[1].Ref, leases[2].Ref], result.Revoked);
        Assert.Empty(h.Pull("A"));
        h.AdvanceAndTick(TimeSpan.FromSeconds(5));
        Assert.Equal([(0L, 2), (1L, 1), (2L, 1)], h.Pull("A").Select(l => (l.Offset, l.Attempt)));
    }

    [Fact]
    public void ModeChange_GivesEveryLeaseBack()
    {
        var h = new DeliveryHarness();
        h.Append(2);
        var leases = h.Pull("A");
        h.State.Configure(DeliveryMode.Ordered, 20, owner: "B");
        Assert.Equal(0, h.State.InFlightCount);
        Assert.Equal([leases[0].Ref], h.State.Ack("A", [leases[0].Ref])); // its lease is gone: refused
        Assert.Equal(2, h.Pull("B").Count);
    }
}
