using Granary.Grains.Cursors;
using Granary.Grains.Delivery;

namespace Granary.Tests.DeliveryRules;

/// <summary>
/// The partition hands the cursor its read's pooled buffer instead of a copy (issue 18): the ready set holds one
/// reference per message over it, and the buffer goes back to the pool exactly when the last such message left
/// (delivered and copied into a pull's answer, expired, dead-lettered, skipped by a seek or retention, dropped on
/// deactivation), never before. The harness's pool poisons every array given back, so a message still read after
/// its buffer went back shows up as a wrong record.
/// </summary>
public sealed class FetchedBufferTests
{
    [Fact]
    public void Delivered_TheBufferGoesBack_WhenTheLastPullOverItCopiedItsRecords()
    {
        var h = new DeliveryHarness();
        h.Append(100);
        var buffer = Assert.Single(h.Fetched);
        Assert.Equal(100, buffer.References); // the fetch let go of its own: one per ready message

        h.Pull("A", max: 60);
        Assert.Equal(40, buffer.References);
        Assert.False(buffer.IsReturned);

        // Taken but not yet copied into the answer: the pull holds them, the ready set none.
        var taken = new List<BufferedMessage>();
        h.State.Take("A", 100, DeliveryHarness.Lease, taken, []);
        Assert.Equal(0, h.State.ReadyCount);
        Assert.Equal(40, buffer.References);
        Assert.False(buffer.IsReturned);
        foreach (var message in taken) DeliveryHarness.AssertIntact(message);
        DeliveryState.ReleaseTaken(taken);
        Assert.Empty(taken);
        Assert.True(buffer.IsReturned);
        Assert.Equal(0, h.Pool.Outstanding);
    }

    [Fact]
    public void Expired_WhileReady_TheBufferGoesBackWithTheLastOne_AndTheDeadLettersReadRight()
    {
        var h = new DeliveryHarness();
        h.Append([.. Enumerable.Range(0, 10).Select(_ => new TestMessage(ExpiresInMs: 1_000))]);
        var buffer = Assert.Single(h.Fetched);
        h.Pull("A", max: 3);
        h.AdvanceAndTick(TimeSpan.FromSeconds(2));
        Assert.Equal(0, h.State.ReadyCount);
        Assert.True(buffer.IsReturned);
        var letters = h.State.NextDeadLetters(100);
        Assert.Equal([3L, 4, 5, 6, 7, 8, 9], letters.Select(l => l.Message.Offset));
        foreach (var letter in letters) DeliveryHarness.AssertIntact(letter.Message); // copies of their own
    }

    [Fact]
    public void Expired_FoundByAPull_TheBufferGoesBack_AndTheDeadLettersReadRight()
    {
        var h = new DeliveryHarness();
        // Every message of the first buffer leaves in the pull (none is taken): it goes back then, after their copies.
        h.Append(new TestMessage(ExpiresInMs: 1_000), new TestMessage(ExpiresInMs: 1_000));
        h.Append(new TestMessage());
        var buffer = h.Fetched[0];
        h.Clock.Advance(TimeSpan.FromSeconds(2)); // no tick: the pull meets them
        Assert.Equal([2L], h.Pull("A").Select(l => l.Offset));
        Assert.True(buffer.IsReturned);
        var letters = h.State.NextDeadLetters(100);
        Assert.Equal([0L, 1], letters.Select(l => l.Message.Offset));
        foreach (var letter in letters) DeliveryHarness.AssertIntact(letter.Message);
    }

    [Fact]
    public void Expired_AndDropped_TheBufferGoesBack()
    {
        var h = new DeliveryHarness(dropExpired: true);
        h.Append(new TestMessage(ExpiresInMs: 1_000), new TestMessage(ExpiresInMs: 5_000));
        var buffer = Assert.Single(h.Fetched);
        h.AdvanceAndTick(TimeSpan.FromSeconds(2));
        Assert.Equal(1, buffer.References);
        h.AdvanceAndTick(TimeSpan.FromSeconds(4));
        Assert.True(buffer.IsReturned);
        Assert.Equal(2, h.State.Committed);
    }

    [Fact]
    public void DeadLetteredByAPull_AfterMaxDeliveries_TheBufferGoesBack_AndTheDeadLettersReadRight()
    {
        var h = new DeliveryHarness(maxDeliveries: 1);
        // Delivered once already by an earlier activation: the next delivery would be one too many.
        h.State.Restore(0, [], new Dictionary<long, int> { [0] = 1, [1] = 1 }, new Dictionary<long, long>(), 0, 0, 0);
        h.Append(2); // every message of this buffer leaves in the pull, none taken
        h.Append(1);
        var buffer = h.Fetched[0];
        Assert.Equal([2L], h.Pull("A").Select(l => l.Offset));
        Assert.True(buffer.IsReturned);
        var letters = h.State.NextDeadLetters(100);
        Assert.Equal([0L, 1], letters.Select(l => l.Message.Offset));
        foreach (var letter in letters) DeliveryHarness.AssertIntact(letter.Message);
    }

    [Fact]
    public void Seek_ReturnsEveryBuffer_AndTheNextReadIsIntact()
    {
        var h = new DeliveryHarness();
        h.Append(50);
        h.Append(50);
        h.Pull("A", max: 10);
        Assert.Equal(2, h.Fetched.Count);
        h.State.Seek(20);
        Assert.All(h.Fetched, b => Assert.True(b.IsReturned));
        Assert.Equal(0, h.Pool.Outstanding);
        h.Refetch();
        Assert.Equal(Enumerable.Range(20, 80).Select(o => (long)o), h.Pull("A", max: 100).Select(l => l.Offset));
        Assert.Equal(0, h.Pool.Outstanding);
    }

    [Fact]
    public void DropReady_OnDeactivation_ReturnsEveryBuffer()
    {
        var h = new DeliveryHarness();
        h.Append(50);
        h.Append(50);
        h.State.DropReady();
        Assert.Equal(0, h.State.ReadyCount);
        Assert.All(h.Fetched, b => Assert.True(b.IsReturned));
    }

    [Fact]
    public void SkippedByRetention_TheBufferGoesBackWithTheLastMessageOverIt()
    {
        var h = new DeliveryHarness();
        h.Append(50);
        h.Append(50);
        h.State.RetainedFrom(30);
        Assert.Equal(20, h.Fetched[0].References);
        h.State.RetainedFrom(50);
        Assert.True(h.Fetched[0].IsReturned);
        Assert.Equal(50, h.Fetched[1].References);
        Assert.Equal(50, h.Pull("A").Count);
    }

    [Fact]
    public void DelayedMessages_AndThoseBehindAHeldKey_KeepNoReference_ButBytesOfTheirOwn()
    {
        var h = new DeliveryHarness(DeliveryMode.KeyShared);
        h.Append(new TestMessage(DeliverInMs: 5_000), new TestMessage("k"), new TestMessage("k"), new TestMessage("k"));
        var buffer = Assert.Single(h.Fetched);
        Assert.Equal(3, buffer.References); // the delayed one has a copy of its own
        var first = h.Pull("A", max: 1);
        Assert.Equal([1L], first.Select(l => l.Offset));
        Assert.Empty(h.Pull("B")); // "k" is A's: its later messages wait, over copies of their own
        Assert.True(buffer.IsReturned);
        h.State.Ack("A", DeliveryHarness.Refs(first));
        Assert.Equal([2L, 3L], h.Pull("B").Select(l => l.Offset)); // and read right (the harness checks each record)
    }

    [Fact]
    public void ABufferReturnedEarly_IsCaught_ByTheReadsOverIt()
    {
        // The check the tests above rely on: a buffer that goes back while messages over it are ready poisons them.
        var h = new DeliveryHarness();
        h.Append(10);
        var buffer = Assert.Single(h.Fetched);
        for (int i = 0; i < 10; i++) buffer.Release();
        Assert.True(buffer.IsReturned);
        Assert.ThrowsAny<Exception>(() => h.Pull("A"));
        Assert.Throws<InvalidOperationException>(buffer.Release);
        Assert.Throws<InvalidOperationException>(buffer.AddReference);
    }

    [Fact]
    public void OwnershipIsClaimedOnce()
    {
        var pool = new PoisoningPool();
        var array = pool.Rent(16);
        var buffer = new FetchedBuffer(array, pool);
        var result = new FetchResult(array, 0, 0, 0, 0) { Buffer = buffer };
        var copy = result with { EndOffset = 1 }; // a copy of the result does not own the buffer a second time
        Assert.Same(buffer, result.TakeBuffer());
        Assert.Null(result.TakeBuffer());
        Assert.Null(copy.TakeBuffer());
        Assert.Null(new FetchResult(array, 0, 0, 0, 0).TakeBuffer());
        buffer.Release();
        Assert.True(buffer.IsReturned);
        Assert.Equal(0, pool.Outstanding);
    }
}
