using System.IO.Hashing;
using Granary.Records;
using Granary.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Granary.Tests.Storage;

/// <summary>
/// The producer-state rebuild beside the log, without a silo: snapshot load, the log scan (producers within the
/// retention, message ids within the window), saving, and expiry, on a fake clock.
/// </summary>
public sealed class ProducerStateManagerTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
    private static readonly TimeSpan Retention = TimeSpan.FromDays(1);

    [Fact]
    public async Task Load_WithoutSnapshot_RebuildsProducersFromTheLog()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(Start);
        await using (var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options()))
        {
            await log.AppendAsync(ProducerBatch(7, firstSequence: 0, count: 3, Start));
            await log.AppendAsync(ProducerBatch(8, firstSequence: 0, count: 1, Start));
            await log.AppendAsync(ProducerBatch(7, firstSequence: 3, count: 2, Start));
        }
        time.Advance(TimeSpan.FromHours(1));
        await using var reopened = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        var state = Manager(reopened, time);

        await state.LoadAsync();

        Assert.Equal(SequenceCheck.Accept, state.Producers.Check(7, 5, 1, out _));
        Assert.Equal(SequenceCheck.Duplicate, state.Producers.Check(7, 3, 2, out var original));
        Assert.Equal(new ProducerBatchInfo(3, 2, 4, Start.ToUnixTimeMilliseconds()), original!.Info);
        Assert.Null(original.Result); // found by the scan: no first answer to repeat, only where it landed
        Assert.Equal(SequenceCheck.OutOfOrder, state.Producers.Check(8, 2, 1, out _));
    }

    [Fact]
    public async Task Load_WithoutSnapshot_SkipsProducersOlderThanTheRetention()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(Start);
        await using var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        await log.AppendAsync(ProducerBatch(7, 0, 2, Start));
        await log.AppendAsync(ProducerBatch(8, 0, 2, Start + TimeSpan.FromDays(1)));
        time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromHours(1));
        var state = Manager(log, time);

        await state.LoadAsync();

        Assert.Equal(1, state.Producers.Count);
        Assert.Equal(SequenceCheck.Duplicate, state.Producers.Check(8, 0, 2, out _));
        Assert.Equal(SequenceCheck.Accept, state.Producers.Check(7, 0, 2, out _)); // forgotten: stored again
    }

    [Fact]
    public async Task Save_ThenLoad_KeepsWhatOnlyTheSnapshotKnows()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(Start);
        await using var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        await log.AppendAsync(ProducerBatch(7, 0, 2, Start));
        var first = Manager(log, time);
        await first.LoadAsync();
        // Every message of producer 9's batch was a message-id duplicate: nothing in the log shows its sequences.
        first.Producers.Record(9, 0, 2, -1, Start.ToUnixTimeMilliseconds()).Complete("answered");
        await first.SaveAsync();
        await log.AppendAsync(ProducerBatch(7, 2, 1, Start)); // after the snapshot: found by the scan

        var second = Manager(log, time);
        await second.LoadAsync();

        Assert.True(File.Exists(ProducerStateSnapshot.PathIn(dir.Path)));
        Assert.Equal(SequenceCheck.Accept, second.Producers.Check(9, 2, 1, out _));
        Assert.Equal(SequenceCheck.Accept, second.Producers.Check(7, 3, 1, out _));
        Assert.Equal(SequenceCheck.Duplicate, second.Producers.Check(7, 2, 1, out var scanned));
        Assert.Equal(2, scanned!.Info.BaseOffset);
    }

    [Fact]
    public async Task Save_Unchanged_WritesNothing()
    {
        using var dir = new TempDirectory();
        await using var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        var state = Manager(log, new FakeTimeProvider(Start));
        await state.LoadAsync();
        await state.SaveAsync();
        Assert.True(File.Exists(ProducerStateSnapshot.PathIn(dir.Path)));
        ProducerStateSnapshot.Delete(dir.Path);

        await state.SaveAsync();

        Assert.False(File.Exists(ProducerStateSnapshot.PathIn(dir.Path)));
    }

    [Fact]
    public async Task Load_SnapshotClaimingRecordsTheLogLacks_IsDeletedAndTheLogScanned()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(Start);
        await using var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        await log.AppendAsync(ProducerBatch(7, 0, 2, Start));
        new ProducerStateSnapshot(100, [new ProducerStateEntry(9, 50, Start.ToUnixTimeMilliseconds(), [])]).Write(dir.Path);
        var state = Manager(log, time);

        await state.LoadAsync();

        Assert.False(File.Exists(ProducerStateSnapshot.PathIn(dir.Path)));
        Assert.Equal(SequenceCheck.Accept, state.Producers.Check(9, 0, 1, out _)); // the stale claim is gone
        Assert.Equal(SequenceCheck.Duplicate, state.Producers.Check(7, 0, 2, out _)); // the log is scanned instead
    }

    [Fact]
    public async Task Load_DamagedSnapshot_IsIgnoredAndTheLogScanned()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(Start);
        await using var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        await log.AppendAsync(ProducerBatch(7, 0, 2, Start));
        new ProducerStateSnapshot(2, [new ProducerStateEntry(9, 50, Start.ToUnixTimeMilliseconds(), [])]).Write(dir.Path);
        var bytes = File.ReadAllBytes(ProducerStateSnapshot.PathIn(dir.Path));
        bytes[^6] ^= 0x40;
        File.WriteAllBytes(ProducerStateSnapshot.PathIn(dir.Path), bytes);
        var state = Manager(log, time);

        await state.LoadAsync();

        Assert.Equal(SequenceCheck.Accept, state.Producers.Check(9, 0, 1, out _));
        Assert.Equal(SequenceCheck.Duplicate, state.Producers.Check(7, 0, 2, out _));
    }

    [Fact]
    public async Task Load_MessageIds_OnlyThoseInsideTheWindow()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(Start + TimeSpan.FromMinutes(10));
        await using var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        await log.AppendAsync(IdBatch(Start, "old"));                                // offset 0, outside a 5-minute window
        await log.AppendAsync(IdBatch(Start + TimeSpan.FromMinutes(8), "recent"));   // offset 1
        var state = Manager(log, time, dedupWindow: TimeSpan.FromMinutes(5));

        await state.LoadAsync();

        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        Assert.NotNull(state.Ids);
        Assert.False(state.Ids.TryGet(Hash("old"), now, out _));
        Assert.True(state.Ids.TryGet(Hash("recent"), now, out long offset));
        Assert.Equal(1, offset);
    }

    [Fact]
    public async Task Load_NoDedupWindow_KeepsNoIds()
    {
        using var dir = new TempDirectory();
        await using var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        await log.AppendAsync(IdBatch(Start, "a"));
        var state = Manager(log, new FakeTimeProvider(Start));

        await state.LoadAsync();

        Assert.Null(state.Ids);
    }

    [Fact]
    public async Task ExpireIdle_ForgetsProducersIdlePastTheRetention_AsTheClockMoves()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(Start);
        await using var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        var state = Manager(log, time, dedupWindow: TimeSpan.FromMinutes(1));
        await state.LoadAsync();
        state.Producers.Record(7, 0, 1, 0, Start.ToUnixTimeMilliseconds());
        state.Ids!.Add(Hash("a"), 0, Start.ToUnixTimeMilliseconds());

        time.Advance(TimeSpan.FromMinutes(2));
        state.ExpireIdle();
        Assert.Equal(1, state.Producers.Count);
        Assert.Equal(0, state.Ids.Count);

        time.Advance(Retention);
        state.ExpireIdle();
        Assert.Equal(0, state.Producers.Count);
    }

    [Fact]
    public async Task CloseLogAndSave_WritesTheSnapshotOnceTheLogIsClosed()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(Start);
        var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        await log.AppendAsync(ProducerBatch(7, 0, 1, Start));
        var state = Manager(log, time);
        await state.LoadAsync();
        state.Producers.Record(9, 0, 4, -1, Start.ToUnixTimeMilliseconds());
        bool closedFirst = false;

        await state.CloseLogAndSaveAsync(async () =>
        {
            closedFirst = !File.Exists(ProducerStateSnapshot.PathIn(dir.Path));
            await log.DisposeAsync();
        });

        Assert.True(closedFirst);
        var saved = ProducerStateSnapshot.TryRead(dir.Path, out string? problem);
        Assert.Null(problem);
        Assert.Equal(1, saved!.CoveredOffset);
        Assert.Contains(saved.Producers, p => p.ProducerId == 9 && p.LastSequence == 3);
    }

    private static ProducerStateManager<string> Manager(PartitionLog log, TimeProvider time, TimeSpan? dedupWindow = null) =>
        new(log, Retention, dedupWindow, ReadId, time, NullLogger.Instance);

    private static byte[] ProducerBatch(long producerId, int firstSequence, int count, DateTimeOffset at) =>
        RecordBatchBuilder.Encode(Enumerable.Range(0, count).Select(i => new LogRecord(Encoding.UTF8.GetBytes($"m{firstSequence + i}"))
        {
            TimestampMs = at.ToUnixTimeMilliseconds(),
            ProducerId = producerId,
            Sequence = firstSequence + i,
        }));

    private static byte[] IdBatch(DateTimeOffset at, string id) =>
        RecordBatchBuilder.Encode([new LogRecord(Encoding.UTF8.GetBytes("payload"))
        {
            TimestampMs = at.ToUnixTimeMilliseconds(),
            Headers = [new RecordHeader("id", Encoding.UTF8.GetBytes(id))],
        }]);

    private static UInt128 Hash(string id) => XxHash128.HashToUInt128(Encoding.UTF8.GetBytes(id));

    private static bool ReadId(ReadOnlySpan<byte> rawHeaders, out UInt128 id)
    {
        var headers = new RecordHeaderReader(rawHeaders);
        while (headers.MoveNext())
        {
            if (headers.Name.SequenceEqual("id"u8))
            {
                id = XxHash128.HashToUInt128(headers.Value);
                return true;
            }
        }
        id = default;
        return false;
    }
}
