namespace Granary.Tests.DeliveryRules;

/// <summary>A seek moves the cursor: leases, acks, attempts and delays of the old position are forgotten.</summary>
public sealed class SeekTests
{
    [Fact]
    public void SeekWhileLeased_OldLeasesAreStale_AndMessagesComeAgainAsFirstDeliveries()
    {
        var h = new DeliveryHarness();
        h.Append(3);
        var leases = h.Pull("A");
        h.State.Nack("A", [leases[2].Ref], TimeSpan.FromMinutes(1));
        h.State.Seek(1);
        Assert.Equal((1L, 1L, 0, 0, 0), (h.State.Committed, h.State.FetchOffset, h.State.InFlightCount, h.State.ReadyCount, h.State.DelayedCount));
        Assert.True(h.Outcome().Changed);

        Assert.Equal([leases[1].Ref], h.State.Ack("A", [leases[1].Ref]));
        Assert.Empty(h.State.CopyRetryAt());
        h.Refetch();
        Assert.Equal([(1L, 1), (2L, 1)], h.Pull("B").Select(l => (l.Offset, l.Attempt)));
    }

    [Fact]
    public void SeekBack_DeliversAckedMessagesAgain()
    {
        var h = new DeliveryHarness();
        h.Append(2);
        h.State.Ack("A", DeliveryHarness.Refs(h.Pull("A")));
        Assert.Equal(2, h.State.Committed);
        h.State.Seek(0);
        h.Refetch();
        Assert.Equal([0L, 1L], h.Pull("A").Select(l => l.Offset));
    }

    [Fact]
    public void SeekDropsQueuedDeadLetters()
    {
        var h = new DeliveryHarness();
        h.Append(new TestMessage(ExpiresInMs: 1));
        h.AdvanceAndTick(TimeSpan.FromSeconds(1));
        Assert.Equal(1, h.State.DeadLetterCount);
        h.State.Seek(5);
        Assert.Equal(0, h.State.DeadLetterCount);
        Assert.True(h.State.IsIdle);
    }
}
