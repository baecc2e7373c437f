namespace Granary.Tests.DeliveryRules;

/// <summary>Messages retention deleted, or whose records were lost, are skipped and counted; handed-out ones are not.</summary>
public sealed class RetentionGapTests
{
    [Fact]
    public void RetainedFrom_SkipsWhatWasNeitherAckedNorHandedOut()
    {
        var h = new DeliveryHarness();
        h.Append(10);
        var leases = h.Pull("A", max: 3); // 0, 1, 2
        h.State.Ack("A", [leases[1].Ref]);
        h.Outcome();
        h.State.RetainedFrom(5);
        var outcome = h.Outcome();
        // 0..4: 1 acked, 0 and 2 handed out (their acks are lost, not the messages): 3 and 4 skipped.
        Assert.Equal(2, outcome.RetentionSkipped);
        Assert.True(outcome.CommittedMoved);
        Assert.Equal((5L, 2L, 0), (h.State.Committed, h.State.Skipped, h.State.InFlightCount));
        Assert.Equal(5, h.Pull("A").Count);
    }

    [Fact]
    public void LostRange_AboveTheCommittedOffset_IsDoneAndCounted()
    {
        var h = new DeliveryHarness();
        h.Append(1);
        h.State.SkipLost(3, 6);
        Assert.Equal(3, h.Outcome().LostSkipped);
        Assert.Equal([3L, 4L, 5L], h.State.AckedAbove);
        Assert.Equal(3, h.State.Skipped);
    }
}
