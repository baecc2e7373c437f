using Granary.Grains.Cursors;
using Granary.Grains.Delivery;
using Granary.Records;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Granary.Tests.Cursors;

/// <summary>
/// <see cref="CursorFetcher"/> on a fake clock and a partition in memory, wired to its <see cref="DeliveryState"/> as
/// the cursor grain wires them: fetches that feed the state, the pull's wait, seeks that void reads begun before them,
/// watching with nobody pulling, refill of messages whose lease ended, retention gaps and lost records, and failed
/// reads that leave nothing stuck.
/// </summary>
public sealed class CursorFetcherTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _clock = new(InMemoryPartitionReader.Start);
    private readonly InMemoryPartitionReader _partition;
    private readonly DeliveryState _state;
    private readonly CursorFetcher _fetcher;
    private readonly List<DeliveryOutcome> _outcomes = [];
    private int _fetched;

    public CursorFetcherTests()
    {
        _partition = new InMemoryPartitionReader(_clock);
        _state = new DeliveryState(_clock);
        _state.Configure(DeliveryMode.Shared, maxDeliveries: 20, owner: null);
        _state.Restore(0, [], new Dictionary<long, int>(), new Dictionary<long, long>(), 0, 0, 0);
        _state.TakeOutcome();
        _fetcher = new CursorFetcher(_state, _partition, Changed, () => _fetched++, _clock, NullLogger.Instance, "orders", "billing", 0);
    }

    /// <summary>The grain's answer to a change: act on the outcome (here, only the fetcher's part of it).</summary>
    private void Changed()
    {
        var outcome = _state.TakeOutcome();
        _outcomes.Add(outcome);
        _fetcher.Follow(outcome);
    }

    /// <summary>The grain's tick: the state's clock work, then the fetcher's.</summary>
    private void Tick()
    {
        _state.Tick();
        Changed();
        _fetcher.Tick();
    }

    private List<LeasedRecord> Take(string member)
    {
        List<BufferedMessage> taken = [];
        List<LeasedRecord> leases = [];
        _state.Take(member, 100, Lease, taken, leases);
        Changed();
        return leases;
    }

    [Fact]
    public void Wait_RecordsFetched_AreOfferedToTheDeliveryState()
    {
        _partition.Append(3);
        var wait = _fetcher.WaitForMessagesAsync("A", MaxWait);

        Assert.True(wait.IsCompletedSuccessfully); // answered at once: the pull takes what came
        Assert.Equal([(0L, DeliveryState.BufferLimit, MaxWait)], _partition.Fetches);
        Assert.Equal((3, 3L, 3L, 1), (_state.ReadyCount, _state.FetchOffset, _fetcher.PartitionEnd, _fetched));
        Assert.True(Assert.Single(_outcomes).Available);
        Assert.Equal([0L, 1L, 2L], Take("A").Select(l => l.Offset));
    }

    [Fact]
    public void Fetch_HandsItsPooledBufferToTheReadySet_WhichGivesItBackWithTheLastMessageTaken()
    {
        _partition.Append(3);
        Assert.True(_fetcher.WaitForMessagesAsync("A", MaxWait).IsCompletedSuccessfully);
        Assert.Equal(1, _partition.Pool.Outstanding); // claimed, and held by the three ready messages
        List<BufferedMessage> taken = [];
        _state.Take("A", 100, Lease, taken, []);
        Assert.Equal(1, _partition.Pool.Outstanding);
        Assert.Equal(["payload-0", "payload-1", "payload-2"], taken.Select(m => Encoding.UTF8.GetString(m.Decode().Payload.Span)));
        DeliveryState.ReleaseTaken(taken);
        Assert.Equal(0, _partition.Pool.Outstanding);
    }

    [Fact]
    public void Fetch_VoidedByASeek_GivesItsBufferBack()
    {
        _partition.Append(3);
        _partition.Hold();
        var wait = _fetcher.WaitForMessagesAsync("A", MaxWait);
        _fetcher.Seek();
        _state.Seek(0);
        _partition.Release();
        Assert.Equal(0, _state.ReadyCount);
        Assert.Equal(1, _partition.Pool.Returned);
        Assert.Equal(0, _partition.Pool.Outstanding);
        GC.KeepAlive(wait);
    }

    [Fact]
    public void Refill_GivesItsBufferBack_AndTheMessageReadAgainHasBytesOfItsOwn()
    {
        _partition.Append(3);
        Assert.True(_fetcher.WaitForMessagesAsync("A", MaxWait).IsCompletedSuccessfully);
        List<BufferedMessage> taken = [];
        List<LeasedRecord> leases = [];
        _state.Take("A", 100, Lease, taken, leases);
        DeliveryState.ReleaseTaken(taken);
        _state.Ack("A", [leases[0].Ref, leases[2].Ref]);
        _state.Nack("A", [leases[1].Ref], TimeSpan.Zero);
        Changed(); // asks for the refill, which reads at once here
        Assert.Equal(1, _state.ReadyCount);
        Assert.Equal(0, _partition.Pool.Outstanding); // the refill's buffer went back: the message was copied
        _state.Take("A", 100, Lease, taken, []);
        Assert.Equal("payload-1", Encoding.UTF8.GetString(Assert.Single(taken).Decode().Payload.Span));
        Assert.Null(taken[0].Owner);
    }

    [Fact]
    public async Task Wait_WhileALongPollRuns_SharesIt_AndEndsWhenItAnswers()
    {
        var first = _fetcher.WaitForMessagesAsync("A", MaxWait);
        var second = _fetcher.WaitForMessagesAsync("B", MaxWait);
        Assert.False(first.IsCompleted || second.IsCompleted);
        Assert.Single(_partition.Fetches); // one fetch at a time

        _partition.Append(2);
        await Task.WhenAll(first, second).WaitAsync(Eventually.DefaultTimeout);
        Assert.Equal(2, _state.ReadyCount);
    }

    [Fact]
    public async Task Wait_NothingComes_EndsAfterItsMaxWait()
    {
        var wait = _fetcher.WaitForMessagesAsync("A", MaxWait);
        _clock.Advance(MaxWait - TimeSpan.FromMilliseconds(1));
        Assert.False(wait.IsCompleted);

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        await wait.WaitAsync(Eventually.DefaultTimeout);
        Assert.Equal(0, _state.ReadyCount);
    }

    [Fact]
    public async Task Wait_AMemberThatMayNotTake_WaitsForAChange_NotAFetch()
    {
        _state.Configure(DeliveryMode.Ordered, 20, owner: "A");
        _state.TakeOutcome();
        _partition.Append(1);
        var wait = _fetcher.WaitForMessagesAsync("B", MaxWait);
        Assert.Empty(_partition.Fetches);
        Assert.False(wait.IsCompleted);

        _state.Configure(DeliveryMode.Ordered, 20, owner: "B"); // the partition is handed to B
        Changed();
        await wait.WaitAsync(Eventually.DefaultTimeout);
    }

    [Fact]
    public async Task Fetch_BegunBeforeASeek_IsVoid()
    {
        _partition.Append(3);
        await _fetcher.WaitForMessagesAsync("A", MaxWait);
        Assert.Equal(3, Take("A").Count);
        _partition.Hold();
        var wait = _fetcher.WaitForMessagesAsync("A", MaxWait); // a long poll from 3
        Assert.Equal(3L, _partition.Fetches[^1].From);

        _fetcher.Seek();
        _state.Seek(0); // back to the start
        Changed();
        _partition.Append(1); // 3
        _partition.Release(); // the long poll answers with 3, for the old position
        await wait.WaitAsync(Eventually.DefaultTimeout);

        // Taken, it would have skipped 0..2 (the fetch offset moved past them) and readied 3 out of order.
        Assert.Equal((0, 0L, long.MaxValue, 1), (_state.ReadyCount, _state.FetchOffset, _fetcher.PartitionEnd, _fetched));
        await _fetcher.WaitForMessagesAsync("A", MaxWait);
        Assert.Equal(0L, _partition.Fetches[^1].From);
        Assert.Equal([0L, 1L, 2L, 3L], Take("A").Select(l => l.Offset));
    }

    [Fact]
    public async Task Fetch_ThatFails_ReachesThePull_AndTheNextPullFetchesAgain()
    {
        _partition.Append(2);
        _partition.FailNext(new GranaryException(GranaryErrorCode.PartitionUnavailable, "moving"));
        var e = await Assert.ThrowsAsync<GranaryException>(() => _fetcher.WaitForMessagesAsync("A", MaxWait));
        Assert.Equal(GranaryErrorCode.PartitionUnavailable, e.Code);

        await _fetcher.WaitForMessagesAsync("A", MaxWait);
        Assert.Equal((2, 2), (_partition.Fetches.Count, _state.ReadyCount));
    }

    [Fact]
    public async Task LongPoll_ThatFails_ReachesThePull_AndTheNextPullFetchesAgain()
    {
        _partition.Hold();
        _partition.FailNext(new GranaryException(GranaryErrorCode.PartitionUnavailable, "moving"));
        var wait = _fetcher.WaitForMessagesAsync("A", MaxWait);
        _partition.Release();
        await Assert.ThrowsAsync<GranaryException>(() => wait.WaitAsync(Eventually.DefaultTimeout));

        _partition.Append(1);
        await _fetcher.WaitForMessagesAsync("A", MaxWait);
        Assert.Equal((2, 1), (_partition.Fetches.Count, _state.ReadyCount));
    }

    [Fact]
    public async Task Fetch_AboveARetentionGap_SkipsWhatRetentionDeleted()
    {
        _partition.Append(5);
        _partition.StartOffset = 3;
        await _fetcher.WaitForMessagesAsync("A", MaxWait);

        Assert.Equal((3L, 3L, 2), (_state.Committed, _state.Skipped, _state.ReadyCount));
        Assert.Equal(3L, Assert.Single(_outcomes).RetentionSkipped);
        Assert.Equal([3L, 4L], Take("A").Select(l => l.Offset));
    }

    [Fact]
    public async Task Fetch_OverLostRecords_SkipsThem_AndGoesOn()
    {
        _partition.Append(5);
        _partition.LostBelow = 2;
        await _fetcher.WaitForMessagesAsync("A", MaxWait);
        Assert.Equal((2L, 2L, 0), (_state.FetchOffset, _state.Skipped, _state.ReadyCount));
        Assert.Equal(2L, Assert.Single(_outcomes).LostSkipped);

        await _fetcher.WaitForMessagesAsync("A", MaxWait);
        Assert.Equal([2L, 3L, 4L], Take("A").Select(l => l.Offset));
    }

    [Fact]
    public async Task Fetch_AMessageRedrivenToAnotherGroup_IsPassedOver()
    {
        _partition.Append(
            new LogRecord { Headers = [new RecordHeader(GranaryHeaders.RedriveGroup, "shipping"u8.ToArray())] },
            new LogRecord { Headers = [new RecordHeader(GranaryHeaders.RedriveGroup, "billing"u8.ToArray())] },
            new LogRecord());
        await _fetcher.WaitForMessagesAsync("A", MaxWait);
        Assert.Equal([1L, 2L], Take("A").Select(l => l.Offset));
    }

    [Fact]
    public async Task Refill_AMessageWhoseLeaseEnded_IsReadAgainFromThePartition()
    {
        _partition.Append(2);
        await _fetcher.WaitForMessagesAsync("A", MaxWait);
        Assert.Equal(2, Take("A").Count);

        _clock.Advance(Lease);
        Tick(); // the leases end: the messages go back without their bytes, and are read again
        Assert.Equal((0L, DeliveryState.BufferLimit, TimeSpan.Zero), _partition.Fetches[^1]);
        Assert.Equal((0, 2), (_state.UnreadCount, _state.ReadyCount));
        Assert.Equal([(0L, 2), (1L, 2)], Take("B").Select(l => (l.Offset, l.Attempt)));
    }

    [Fact]
    public async Task Refill_ThatFails_IsTriedAgainByTheNextTick()
    {
        _partition.Append(2);
        await _fetcher.WaitForMessagesAsync("A", MaxWait);
        Take("A");
        // The tick reads twice (asked by the state, then its own retry); both fail.
        _partition.FailNext(new IOException("disk"));
        _partition.FailNext(new IOException("disk"));
        _clock.Advance(Lease);
        Tick();
        Assert.Equal((2, 0), (_state.UnreadCount, _state.ReadyCount));

        Tick();
        Assert.Equal((0, 2), (_state.UnreadCount, _state.ReadyCount));
    }

    [Fact]
    public async Task Watching_ExpiringMessageFetched_ReadsAheadWithNobodyPulling_UntilNothingHeldExpires()
    {
        _partition.AppendExpiring(1000); // 0
        await _fetcher.WaitForMessagesAsync("A", MaxWait); // fetched, and nobody takes it
        Assert.True(_fetcher.IsWatching);

        _partition.Append(2); // 1, 2
        Tick();
        Assert.Equal((3, 1L), (_state.ReadyCount, _partition.Fetches[^1].From)); // read ahead, no pull
        Assert.Empty(_partition.WatchStops); // 0 still expires: keep watching
        Assert.True(_fetcher.IsWatching);

        _clock.Advance(TimeSpan.FromSeconds(1));
        Tick(); // 0 expires (a dead letter); at the end, nothing held expires: watching stops and the partition is told
        Assert.Equal(1, _state.DeadLetterCount);
        Assert.Equal([3L], _partition.WatchStops);
        Assert.False(_fetcher.IsWatching);

        int fetches = _partition.Fetches.Count;
        Tick();
        Assert.Equal(fetches, _partition.Fetches.Count);
    }

    [Fact]
    public async Task Watching_ADelayedMessage_IsReadAhead_AndWakesAWaitingPullWhenDue()
    {
        _fetcher.WatchBacklog(); // a wake
        Assert.Equal(long.MaxValue, _fetcher.PartitionEnd);
        _partition.AppendDelayed(1000);
        Tick();
        Assert.Equal((1, 0, 1L), (_state.DelayedCount, _state.ReadyCount, _fetcher.PartitionEnd));
        Assert.True(_fetcher.IsWatching);

        Assert.Empty(Take("A"));
        var wait = _fetcher.WaitForMessagesAsync("A", MaxWait); // a long poll from 1
        _clock.Advance(TimeSpan.FromSeconds(1));
        Tick();
        await wait.WaitAsync(Eventually.DefaultTimeout);
        Assert.Equal([0L], Take("A").Select(l => l.Offset));
    }

    [Fact]
    public void Watching_AWake_ReadsToTheEnd_ThenStopsAndTellsThePartitionWhere()
    {
        _partition.Append(2);
        _fetcher.WatchBacklog();
        Tick();
        Assert.Equal((2, 2L), (_state.ReadyCount, _fetcher.PartitionEnd));
        Assert.Equal([2L], _partition.WatchStops);
        Assert.False(_fetcher.IsWatching);
    }

    [Fact]
    public void Watching_WhenThePartitionIsNotTold_GoesOn_AndTellsItNextTime()
    {
        _partition.WatchStopFailure = new GranaryException(GranaryErrorCode.PartitionUnavailable, "moving");
        _fetcher.WatchBacklog();
        Tick();
        Assert.True(_fetcher.IsWatching);

        _partition.WatchStopFailure = null;
        Tick();
        Assert.Equal([0L], _partition.WatchStops);
        Assert.False(_fetcher.IsWatching);
    }

    [Fact]
    public void Watching_WithTheBufferFull_Stops_WhenNothingHeldExpires()
    {
        _partition.Append(DeliveryState.BufferLimit);
        _partition.Append(1);
        _fetcher.WatchBacklog();
        Tick();
        Assert.False(_state.CanFetch);
        Assert.True(_fetcher.IsWatching); // the end is not reached: the next tick decides

        Tick();
        Assert.False(_fetcher.IsWatching); // room again (a pull) and a fetch of timed messages start it again
        Assert.Empty(_partition.WatchStops);
        Assert.Single(_partition.Fetches);
    }

    [Fact]
    public void Tick_AfterStop_ReadsNothing()
    {
        _partition.Append(1);
        _fetcher.WatchBacklog();
        _fetcher.Stop();
        Tick();
        Assert.Empty(_partition.Fetches);
    }
}
