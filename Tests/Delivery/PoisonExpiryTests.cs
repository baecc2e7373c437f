namespace Granary.Tests.DeliveryRules;

/// <summary>
/// Under the ordered modes the leases of one pull share one end. When a poison message hangs its handler past the
/// lease, the messages prefetched behind it run out in the same tick: only the poison message's expiry counts, so it
/// is dead-lettered alone and the healthy ones behind it keep their attempts.
/// </summary>
public sealed class PoisonExpiryTests
{
    [Theory]
    [InlineData(DeliveryMode.KeyShared)]
    [InlineData(DeliveryMode.Ordered)]
    public void LeasesOfOnePullExpiringTogether_OnlyThePoisonMessageUsesUpItsDeliveries(DeliveryMode mode)
    {
        var h = new DeliveryHarness(mode, maxDeliveries: 3, owner: "A");
        h.Append([.. Enumerable.Range(0, 4).Select(_ => new TestMessage("k"))]);
        for (int round = 1; round <= 3; round++)
        {
            var pulled = h.Pull("A");
            Assert.Equal([round, 1, 1, 1], pulled.Select(l => l.Attempt));
            h.AdvanceAndTick(DeliveryHarness.Lease);
        }

        var healthy = h.Pull("A");
        Assert.Equal([(1L, 1), (2L, 1), (3L, 1)], healthy.Select(l => (l.Offset, l.Attempt)));
        var letter = Assert.Single(h.State.NextDeadLetters(10));
        Assert.Equal((0L, GranaryHeaders.Reasons.MaxDeliveries, 3), (letter.Message.Offset, letter.Reason, letter.Attempts));
        Assert.Empty(h.State.Ack("A", DeliveryHarness.Refs(healthy)));
        h.State.DeadLettersWritten([letter]);
        Assert.Equal(4, h.State.Committed);
    }

    [Fact]
    public void Shared_EveryExpiredLeaseCounts()
    {
        var h = new DeliveryHarness();
        h.Append(3);
        h.Pull("A");
        h.AdvanceAndTick(DeliveryHarness.Lease);
        Assert.Equal([2, 2, 2], h.Pull("A").Select(l => l.Attempt));
    }
}
