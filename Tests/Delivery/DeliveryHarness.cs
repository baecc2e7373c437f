using Granary.Grains.Cursors;
using Granary.Grains.Delivery;
using Granary.Records;
using Microsoft.Extensions.Time.Testing;

namespace Granary.Tests.DeliveryRules;

/// <summary>A message to append in a <see cref="DeliveryHarness"/>: optional key, expiry and deliver-at (ms from the start).</summary>
internal sealed record TestMessage(string? Key = null, long? ExpiresInMs = null, long? DeliverInMs = null);

/// <summary>
/// A <see cref="DeliveryState"/> on a <see cref="FakeTimeProvider"/>, fed as the cursor grain feeds it (stored batches
/// decoded into <see cref="BufferedMessage"/>s), with the grain's side of pulls and answers. No silo, no real clock.
/// </summary>
/// <remarks>
/// Every read is handed over in a pooled buffer, as the partition hands its read to the cursor, from a
/// <see cref="PoisoningPool"/>: a buffer that went back while a message over it was still held shows up as a pulled
/// record or a dead letter that does not read back as what was appended (every test of the rules checks this).
/// </remarks>
internal sealed class DeliveryHarness
{
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly List<BufferedMessage> _taken = [];
    private readonly List<(byte[] Batch, long Base, long End)> _log = [];
    private long _next;

    public DeliveryHarness(DeliveryMode mode = DeliveryMode.Shared, int? maxDeliveries = 20, string? owner = null, bool dropExpired = false)
    {
        State = new DeliveryState(Clock);
        State.Configure(mode, maxDeliveries, owner);
        State.DropExpired = dropExpired;
        State.Restore(0, [], new Dictionary<long, int>(), new Dictionary<long, long>(), 0, 0, 0);
        State.TakeOutcome();
    }

    public FakeTimeProvider Clock { get; } = new(Start);

    /// <summary>Where the fetched buffers come from and go back to.</summary>
    public PoisoningPool Pool { get; } = new();

    /// <summary>The fetched buffer of each batch read, in the order read.</summary>
    public List<FetchedBuffer> Fetched { get; } = [];

    /// <summary>The payload <see cref="Append(TestMessage[])"/> gives the message at <paramref name="offset"/>.</summary>
    public static string PayloadOf(long offset) => $"payload-{offset}";
    public DeliveryState State { get; }

    /// <summary>What the state asked of the grain since the last look.</summary>
    public DeliveryOutcome Outcome() => State.TakeOutcome();

    /// <summary>Appends <paramref name="count"/> messages without key or times; returns their offsets.</summary>
    public long[] Append(int count) => Append([.. Enumerable.Range(0, count).Select(_ => new TestMessage())]);

    /// <summary>Appends the messages as one stored batch and offers them as a fetch does; returns their offsets.</summary>
    public long[] Append(params TestMessage[] messages)
    {
        long startMs = Start.ToUnixTimeMilliseconds();
        var batch = RecordBatchBuilder.Encode(messages.Select((m, i) => new LogRecord(Encoding.UTF8.GetBytes(PayloadOf(_next + i)))
        {
            Key = m.Key is null ? null : Encoding.UTF8.GetBytes(m.Key),
            TimestampMs = startMs,
            ExpiresAtMs = m.ExpiresInMs is { } e ? startMs + e : null,
            DeliverAtMs = m.DeliverInMs is { } d ? startMs + d : null,
        }));
        RecordBatchCodec.WriteBaseOffset(batch, _next);
        long end = _next + messages.Length;
        _log.Add((batch, _next, end));
        Offer(batch, _next, end);
        var offsets = Enumerable.Range(0, messages.Length).Select(i => _next + i).ToArray();
        _next = end;
        return offsets;
    }

    /// <summary>Reads the log again from the state's fetch offset, as the grain's fetch does after a seek.</summary>
    public void Refetch()
    {
        foreach (var (batch, baseOffset, end) in _log)
        {
            if (end > State.FetchOffset) Offer(batch, baseOffset, end);
        }
    }

    private void Offer(byte[] batch, long baseOffset, long end)
    {
        var (buffer, bytes) = Pool.Fetched(batch);
        Fetched.Add(buffer);
        foreach (var ranged in StoredBatches.Read(bytes, baseOffset, end))
        {
            if (ranged.Record.Offset >= State.FetchOffset && State.IsNew(ranged.Record.Offset))
                State.Offer(BufferedMessage.From(ranged, buffer), forAnotherGroup: false);
        }
        buffer.Release(); // the fetch's own reference, as CursorFetcher gives it up
        State.FetchedTo(end);
    }

    /// <summary>
    /// Reads again, as the grain does when asked (<see cref="DeliveryOutcome.RefillNeeded"/>, and before a pull),
    /// the messages that went back without their record bytes: the log from <see cref="DeliveryState.RefillFrom"/>,
    /// up to <paramref name="until"/> (all of it when null).
    /// </summary>
    public void Refill(long? until = null)
    {
        if (State.RefillFrom is not { } from) return;
        long end = Math.Min(until ?? _next, _next);
        foreach (var (batch, baseOffset, batchEnd) in _log)
        {
            if (batchEnd <= from || baseOffset >= end) continue;
            var (buffer, bytes) = Pool.Fetched(batch);
            Fetched.Add(buffer);
            foreach (var ranged in StoredBatches.Read(bytes, baseOffset, batchEnd))
            {
                if (ranged.Record.Offset < end && State.IsUnread(ranged.Record.Offset))
                    State.Refill(BufferedMessage.From(ranged, buffer), forAnotherGroup: false);
            }
            buffer.Release();
        }
        State.RefilledTo(from, end);
    }

    /// <summary>
    /// A pull of <paramref name="member"/> (after a refill, as the grain's, unless <paramref name="refill"/> is false):
    /// the leases it got, in offset order.
    /// </summary>
    public List<LeasedRecord> Pull(string member, int max = 100, TimeSpan? lease = null, bool refill = true)
    {
        if (refill) Refill();
        var leases = new List<LeasedRecord>();
        _taken.Clear();
        State.Take(member, max, lease ?? Lease, _taken, leases);
        Assert.Equal(leases.Select(l => l.Offset), _taken.Select(m => m.Offset));
        // What the pull's answer copies: each record as appended (its buffer still held), then the pull lets go.
        foreach (var message in _taken) AssertIntact(message);
        DeliveryState.ReleaseTaken(_taken);
        return leases;
    }

    /// <summary>The message's record reads back as appended: its buffer did not go back to the pool under it.</summary>
    public static void AssertIntact(in BufferedMessage message)
    {
        Assert.False(message.Owner is { IsReturned: true }, $"message {message.Offset} is over a buffer that went back to the pool");
        var record = message.Decode();
        Assert.Equal(message.Offset, record.Offset);
        Assert.Equal(PayloadOf(message.Offset), Encoding.UTF8.GetString(record.Payload.Span));
    }

    public static LeaseRef[] Refs(IEnumerable<LeasedRecord> leases) => [.. leases.Select(l => l.Ref)];

    /// <summary>Moves the fake clock and runs the grain's periodic tick (with the refill it asks for).</summary>
    public void AdvanceAndTick(TimeSpan by)
    {
        Clock.Advance(by);
        State.Tick();
        Refill();
    }
}
