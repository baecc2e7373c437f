namespace Granary.Tests.DeliveryRules;

/// <summary>A nack gives a message back at once or after a delay; the delay survives a restart.</summary>
public sealed class NackDelayTests
{
    [Fact]
    public void NackWithoutDelay_IsReadyAtOnce_WithTheNextAttempt()
    {
        var h = new DeliveryHarness();
        h.Append(1);
        var result = h.State.Nack("A", DeliveryHarness.Refs(h.Pull("A")), TimeSpan.Zero);
        Assert.Empty(result.Refused);
        Assert.True(h.Outcome().Available);
        Assert.Equal(2, Assert.Single(h.Pull("B")).Attempt);
    }

    [Fact]
    public void NackWithDelay_WaitsForItsTime()
    {
        var h = new DeliveryHarness();
        h.Append(2);
        var leases = h.Pull("A", max: 1);
        h.State.Nack("A", DeliveryHarness.Refs(leases), TimeSpan.FromSeconds(5));
        h.Refill(); // read again (as the grain does when asked), then held until due
        Assert.Equal(1, h.State.DelayedCount);
        Assert.Equal(h.Clock.GetUtcNow().ToUnixTimeMilliseconds() + 5_000, h.State.CopyRetryAt()[0]); // saved with the cursor
        Assert.Equal([1L], h.Pull("B").Select(l => l.Offset)); // Shared: the others go on

        h.AdvanceAndTick(TimeSpan.FromMilliseconds(4_999));
        Assert.Empty(h.Pull("B"));
        h.AdvanceAndTick(TimeSpan.FromMilliseconds(1));
        var again = Assert.Single(h.Pull("B"));
        Assert.Equal((0, 2), (again.Offset, again.Attempt));
        Assert.Empty(h.State.CopyRetryAt());
    }

    [Fact]
    public void SavedNackDelay_HoldsTheMessageAfterARestart()
    {
        var h = new DeliveryHarness();
        long due = h.Clock.GetUtcNow().ToUnixTimeMilliseconds() + 10_000;
        h.State.Restore(0, [], new Dictionary<long, int> { [0] = 1 }, new Dictionary<long, long> { [0] = due }, 0, 0, 0);
        h.Append(1);
        Assert.Empty(h.Pull("A"));
        h.AdvanceAndTick(TimeSpan.FromSeconds(10));
        Assert.Equal(2, Assert.Single(h.Pull("A")).Attempt);
    }

    [Fact]
    public void NackOfAnotherMembersOrAnOldDelivery_IsRefused()
    {
        var h = new DeliveryHarness();
        h.Append(1);
        var lease = Assert.Single(h.Pull("A"));
        Assert.Equal([lease.Ref], h.State.Nack("B", [lease.Ref], TimeSpan.Zero).Refused);
        Assert.Equal(1, h.State.InFlightCount);
    }
}
