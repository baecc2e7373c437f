using System.Runtime.InteropServices;
using Granary.Grains.Cursors;
using Granary.Records;
using Granary.Tests.DeliveryRules;

namespace Granary.Tests.Cursors;

/// <summary>
/// A partition in memory as a cursor reads it (<see cref="IPartitionReader"/>): stored batches, an earliest retained
/// offset, lost offsets, long polls on the given clock, and reads that can be made to fail or to wait. Every call is
/// recorded. Reads are handed over in pooled buffers, as the partition grain hands its read to a cursor in its silo,
/// from a <see cref="PoisoningPool"/> (<see cref="Pool"/>).
/// </summary>
internal sealed class InMemoryPartitionReader(TimeProvider clock) : IPartitionReader
{
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly List<(byte[] Batch, long Base, long End)> _log = [];
    private readonly Queue<Exception> _failures = [];
    private TaskCompletionSource? _gate;
    private TaskCompletionSource _appended = new();

    /// <summary>The offset the next append gets.</summary>
    public long EndOffset { get; private set; }

    /// <summary>The earliest retained offset: retention deleted everything below.</summary>
    public long StartOffset { get; set; }

    /// <summary>Offsets from <see cref="StartOffset"/> below this one are lost (a missing segment): a read there reports them.</summary>
    public long LostBelow { get; set; }

    /// <summary>Where the fetched buffers come from; every array given back is poisoned.</summary>
    public PoisoningPool Pool { get; } = new();

    /// <summary>Every fetch asked for, in order.</summary>
    public List<(long From, int Max, TimeSpan Wait)> Fetches { get; } = [];

    /// <summary>Every offset the cursor said it stopped watching at, in order.</summary>
    public List<long> WatchStops { get; } = [];

    /// <summary>When set, <see cref="WatchStoppedAsync"/> throws it.</summary>
    public Exception? WatchStopFailure { get; set; }

    /// <summary>Appends records without key or times; returns their offsets.</summary>
    public long[] Append(int count) => Append([.. Enumerable.Range(0, count).Select(_ => new LogRecord())]);

    /// <summary>Appends one message that expires <paramref name="expiresInMs"/> after the start; returns its offset.</summary>
    public long AppendExpiring(long expiresInMs) => Append(new LogRecord { ExpiresAtMs = Start.ToUnixTimeMilliseconds() + expiresInMs })[0];

    /// <summary>Appends one message delivered <paramref name="deliverInMs"/> after the start; returns its offset.</summary>
    public long AppendDelayed(long deliverInMs) => Append(new LogRecord { DeliverAtMs = Start.ToUnixTimeMilliseconds() + deliverInMs })[0];

    /// <summary>Appends the records as one stored batch; returns their offsets.</summary>
    public long[] Append(params LogRecord[] records)
    {
        long startMs = Start.ToUnixTimeMilliseconds();
        var batch = RecordBatchBuilder.Encode(records.Select((r, i) => r with
        {
            Payload = Encoding.UTF8.GetBytes($"payload-{EndOffset + i}"),
            TimestampMs = startMs,
        }));
        RecordBatchCodec.WriteBaseOffset(batch, EndOffset);
        long end = EndOffset + records.Length;
        _log.Add((batch, EndOffset, end));
        var offsets = Enumerable.Range(0, records.Length).Select(i => EndOffset + i).ToArray();
        EndOffset = end;
        var appended = _appended;
        _appended = new TaskCompletionSource();
        appended.SetResult(); // a long poll answers
        return offsets;
    }

    /// <summary>The next read fails with <paramref name="failure"/> (once it is let through, when reads are held).</summary>
    public void FailNext(Exception failure) => _failures.Enqueue(failure);

    /// <summary>Reads wait (as a long poll does) until <see cref="Release"/>; what they return is read then.</summary>
    public void Hold() => _gate = new TaskCompletionSource();

    /// <summary>Lets the waiting reads answer (in the caller's turn, as their continuations run inline).</summary>
    public void Release()
    {
        var gate = _gate;
        _gate = null;
        gate?.SetResult();
    }

    public async Task<FetchResult> FetchAsync(long fromOffset, int maxMessages, TimeSpan maxWait)
    {
        Fetches.Add((fromOffset, maxMessages, maxWait));
        if (_gate is { } gate) await gate.Task;
        if (_failures.TryDequeue(out var failure)) throw failure;
        // A long poll: nothing to read yet, so wait for an append or the end of the wait.
        if (maxWait > TimeSpan.Zero && Math.Max(fromOffset, StartOffset) >= EndOffset)
            await Task.WhenAny(_appended.Task, Task.Delay(maxWait, clock));
        long from = Math.Max(fromOffset, StartOffset);
        if (from < LostBelow)
            return new FetchResult(ReadOnlyMemory<byte>.Empty, from, LostBelow, StartOffset, EndOffset) { LostFromOffset = from };
        var batches = new List<byte>();
        long next = from, taken = 0;
        foreach (var (batch, baseOffset, end) in _log)
        {
            if (end <= from) continue;
            if (taken >= maxMessages) break;
            batches.AddRange(batch);
            taken += end - Math.Max(baseOffset, from);
            next = end;
        }
        if (batches.Count == 0) return new FetchResult(ReadOnlyMemory<byte>.Empty, from, next, StartOffset, EndOffset);
        // Unclaimed: the result holds the first reference, for the cursor to claim.
        var (buffer, bytes) = Pool.Fetched(CollectionsMarshal.AsSpan(batches), claim: false);
        return new FetchResult(bytes, from, next, StartOffset, EndOffset) { Buffer = buffer };
    }

    public Task WatchStoppedAsync(long fromOffset)
    {
        if (WatchStopFailure is { } failure) return Task.FromException(failure);
        WatchStops.Add(fromOffset);
        return Task.CompletedTask;
    }
}
