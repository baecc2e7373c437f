using Granary.Grains.Delivery;

namespace Granary.Tests.DeliveryRules;

/// <summary>Acks named as runs (<see cref="LeaseRun"/>): the SDK's ack shape, and the cursor's checks of it.</summary>
public sealed class AckRunsTests
{
    [Fact]
    public void From_JoinsConsecutiveOffsetsAndLeases_InOffsetOrder()
    {
        LeaseRef[] deliveries = [new(12, 102), new(10, 100), new(11, 101), new(14, 200), new(15, 201), new(20, 300)];
        Assert.Equal([new LeaseRun(10, 100, 3), new LeaseRun(14, 200, 2), new LeaseRun(20, 300, 1)], LeaseRun.From(deliveries));
        Assert.Empty(LeaseRun.From([]));
    }

    [Fact]
    public void AckRuns_TakesCurrentDeliveries_AndRefusesStaleOnes()
    {
        var harness = new DeliveryHarness();
        harness.Append(10);
        var leases = harness.Pull("A", max: 10);
        // The run names offsets 0..9 under their leases; a second run names 0..1 under lease ids never issued.
        var refused = harness.State.AckRuns("A", [new LeaseRun(0, leases[0].LeaseId, 10), new LeaseRun(0, leases[0].LeaseId + 1000, 2)]);
        Assert.Equal(10, harness.State.Committed);
        Assert.Equal(0, harness.State.InFlightCount);
        Assert.Empty(refused); // done messages: their other acks change nothing
        harness.Append(2);
        var next = harness.Pull("A", max: 2);
        var stale = harness.State.AckRuns("A", [new LeaseRun(10, next[0].LeaseId + 7, 2)]);
        Assert.Equal([new LeaseRef(10, next[0].LeaseId + 7), new LeaseRef(11, next[0].LeaseId + 8)], stale);
        Assert.Equal(10, harness.State.Committed);
        Assert.Equal(2, harness.State.InFlightCount);
    }

    [Theory]
    [InlineData(0L, 1L, 0)]
    [InlineData(0L, 1L, -5)]
    [InlineData(-1L, 1L, 1)]
    [InlineData(long.MaxValue, 1L, 2)]
    [InlineData(0L, long.MaxValue, 2)]
    [InlineData(0L, 1L, LeaseRun.MaxPerCall + 1)]
    public void AckRuns_WithABadRun_IsInvalidArgument_AndChangesNothing(long offset, long leaseId, int count)
    {
        var harness = new DeliveryHarness();
        harness.Append(3);
        var leases = harness.Pull("A", max: 3);
        // A good run first: the bad one after it must not let it through either.
        var error = Assert.Throws<GranaryException>(() =>
            harness.State.AckRuns("A", [new LeaseRun(0, leases[0].LeaseId, 3), new LeaseRun(offset, leaseId, count)]));
        Assert.Equal(GranaryErrorCode.InvalidArgument, error.Code);
        Assert.Equal(0, harness.State.Committed);
        Assert.Equal(3, harness.State.InFlightCount);
    }
}
