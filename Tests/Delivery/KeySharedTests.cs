namespace Granary.Tests.DeliveryRules;

/// <summary>KeyShared: one member at a time holds a key's messages, in order; messages without a key are shared.</summary>
public sealed class KeySharedTests
{
    private static TestMessage K(string key) => new(key);

    [Fact]
    public void AKeyHeldByOneMember_IsSkippedForOthers_WithAllItsLaterMessages()
    {
        var h = new DeliveryHarness(DeliveryMode.KeyShared);
        h.Append(K("a"), K("a"), K("b"), new TestMessage(), K("a"));
        Assert.Equal([0L], h.Pull("A", max: 1).Select(l => l.Offset));
        Assert.Equal([2L, 3L], h.Pull("B").Select(l => l.Offset)); // "a" is A's; "b" and the keyless one are free
        Assert.Equal([1L, 4L], h.Pull("A").Select(l => l.Offset)); // the holder takes the rest of its key
    }

    [Fact]
    public void AckingAKeysLastLease_FreesItForAnotherMember()
    {
        var h = new DeliveryHarness(DeliveryMode.KeyShared);
        h.Append(K("a"), K("a"));
        var first = h.Pull("A", max: 1);
        Assert.Empty(h.Pull("B"));
        h.State.Ack("A", DeliveryHarness.Refs(first));
        Assert.True(h.Outcome().Available); // a pull waiting for the key may take it now
        Assert.Equal([1L], h.Pull("B").Select(l => l.Offset));
    }

    [Fact]
    public void NackWithDelay_BlocksItsKeyForEveryMember_UntilDue()
    {
        var h = new DeliveryHarness(DeliveryMode.KeyShared);
        h.Append(K("a"), K("a"), K("b"));
        var first = h.Pull("A", max: 1);
        h.State.Nack("A", DeliveryHarness.Refs(first), TimeSpan.FromSeconds(5));
        Assert.Equal([2L], h.Pull("B").Select(l => l.Offset)); // offset 1 waits behind its key's delayed message
        h.AdvanceAndTick(TimeSpan.FromSeconds(5));
        var again = h.Pull("B");
        Assert.Equal([(0L, 2), (1L, 1)], again.Select(l => (l.Offset, l.Attempt)));
    }

    [Fact]
    public void ExpiredLeasesOfOneKey_OnlyTheLowestCounts_TheRestAreTakenBack()
    {
        var h = new DeliveryHarness(DeliveryMode.KeyShared);
        h.Append(K("a"), K("a"), K("a"), K("b"));
        Assert.Equal(4, h.Pull("A").Count);
        h.AdvanceAndTick(DeliveryHarness.Lease);
        // The poison message that hung the handler is counted; those behind it were never handed to the handler.
        Assert.Equal([(0L, 2), (1L, 1), (2L, 1), (3L, 2)], h.Pull("B").Select(l => (l.Offset, l.Attempt)));
    }
}
