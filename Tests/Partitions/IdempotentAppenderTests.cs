using Granary.Grains.Partitions;
using Granary.Records;
using Granary.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Granary.Tests.Storage;
using Microsoft.Extensions.Time.Testing;
using System.Runtime.InteropServices;

namespace Granary.Tests.Partitions;

/// <summary>
/// Idempotent producers and message-id dedup on the append path, on a plain log and a fake clock: the sequence check,
/// duplicates within a batch and within the window, a batch of duplicates only, and the answer to a retry.
/// </summary>
public sealed class IdempotentAppenderTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task CheckSequence_RetryOfARecordedBatch_GetsTheFirstAnswer_AndAGapIsOutOfOrder()
    {
        using var dir = new TempDirectory();
        await using var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        var appender = await Open(log, new FakeTimeProvider(Start), dedupWindow: null);
        var batch = Batch(producerId: 7, baseSequence: 0, null, null);
        long now = Start.ToUnixTimeMilliseconds();

        Assert.Null(appender.CheckSequence(batch));
        var recorded = appender.Remember(batch, null, baseOffset: 0, now);
        var first = new AppendResult(0, 2, now);
        recorded!.Complete(first);

        var original = appender.CheckSequence(batch);
        Assert.NotNull(original);
        var summary = ProducedBatchValidator.Validate(batch, batch.Records.Span, 1 << 20, "t");
        Assert.Same(first, await appender.RepeatedBatchResultAsync(batch, summary, original));
        var gap = Assert.Throws<GranaryException>(() => { appender.CheckSequence(Batch(producerId: 7, baseSequence: 5, (string?)null)); });
        Assert.Equal(GranaryErrorCode.OutOfOrderSequence, gap.Code);
    }

    [Fact]
    public async Task CheckSequence_BatchWithoutProducer_IsAlwaysNew()
    {
        using var dir = new TempDirectory();
        await using var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        var appender = await Open(log, new FakeTimeProvider(Start), dedupWindow: null);
        var batch = Batch(producerId: 0, baseSequence: 0, (string?)null);

        Assert.Null(appender.Remember(batch, null, 0, Start.ToUnixTimeMilliseconds()));
        Assert.Null(appender.CheckSequence(batch));
    }

    [Fact]
    public async Task FindDuplicates_RepeatsInTheBatchAndIdsStoredWithinTheWindow_PointAtTheStoredCopies()
    {
        using var dir = new TempDirectory();
        await using var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        var appender = await Open(log, new FakeTimeProvider(Start), Window);
        long now = Start.ToUnixTimeMilliseconds();
        var first = Batch(0, 0, "a", "b");
        Validate(first);
        Assert.Null(appender.FindDuplicates(2, now, long.MaxValue));
        appender.Remember(first, null, baseOffset: 0, now);

        var second = Batch(0, 0, "b", "c", "c", null);
        Validate(second);
        var plan = appender.FindDuplicates(4, now + 1000, long.MaxValue);

        Assert.NotNull(plan);
        Assert.Equal([true, false, true, false], plan.IsDuplicate);
        plan.AssignOffsets(2);
        Assert.Equal([1L, 2, 2, 3], plan.Offsets);
    }

    [Fact]
    public async Task FindDuplicates_IdStoredLongerAgoThanTheWindow_IsStoredAgain()
    {
        using var dir = new TempDirectory();
        await using var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        var appender = await Open(log, new FakeTimeProvider(Start), Window);
        long now = Start.ToUnixTimeMilliseconds();
        var first = Batch(0, 0, "a");
        Validate(first);
        appender.Remember(first, null, 0, now);

        Validate(Batch(0, 0, "a"));
        Assert.Null(appender.FindDuplicates(1, now + (long)Window.TotalMilliseconds + 1, long.MaxValue));
    }

    [Fact]
    public async Task WithoutDuplicates_KeepsTheOtherRecordsUnderAPatchedHeader()
    {
        using var dir = new TempDirectory();
        await using var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        var batch = Batch(0, 0, "a", "a", "b");
        var summary = Validate(batch);
        var plan = new DuplicatePlan(3);
        plan.MarkCopyOf(1, 0);

        var rebuilt = IdempotentAppender.WithoutDuplicates(batch.Records.Span, plan, stored: 2, out long payloadBytes);

        Assert.Equal(2, RecordBatchCodec.ReadRecordCount(rebuilt.Span));
        Assert.Equal(summary.PayloadBytes * 2 / 3, payloadBytes);
        await log.AppendAsync(rebuilt); // the CRC and lengths agree: the log takes it
        Assert.Equal(["m0", "m2"], await LogTestKit.ReadAllPayloadsAsync(log));
    }

    [Fact]
    public async Task AllDuplicatesAsync_StoresNothing_AndARetryOfItGetsTheSameAnswer()
    {
        using var dir = new TempDirectory();
        await using var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        var appender = await Open(log, new FakeTimeProvider(Start), Window);
        long now = Start.ToUnixTimeMilliseconds();
        var stored = Batch(0, 0, "a");
        Validate(stored);
        appender.Remember(stored, null, 0, now);
        await log.AppendAsync(stored.Records);
        var repeat = Batch(producerId: 9, baseSequence: 0, "a", "a");
        Validate(repeat);
        Assert.Null(appender.CheckSequence(repeat));
        var plan = appender.FindDuplicates(2, now, long.MaxValue)!;

        var answer = await appender.AllDuplicatesAsync(repeat, plan, now, e => new GranaryException(GranaryErrorCode.PartitionUnavailable, e.Message));

        Assert.Equal([0L, 0], answer.Offsets!);
        Assert.Equal([true, true], answer.Duplicates!);
        Assert.Equal(1, log.EndOffset);
        Assert.Equal(1, log.FlushedOffset);
        var original = appender.CheckSequence(repeat)!;
        Assert.Same(answer, await original.Result!);
    }

    [Fact]
    public async Task RepeatedBatchResultAsync_AfterTheLogReopened_RebuildsTheAnswerFromWhereTheBatchLanded()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(Start);
        var batch = Batch(producerId: 7, baseSequence: 0, null, null, null);
        await using (var log = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options()))
        {
            await log.AppendAsync(LogTestKit.Batch("before"));
            RecordBatchCodec.StampTime(MemoryMarshal.AsMemory(batch.Records).Span, Start.ToUnixTimeMilliseconds(), RecordBatchCodec.NoDefaultTtl);
            await log.AppendAsync(batch.Records);
        }
        time.Advance(TimeSpan.FromMinutes(5));
        await using var reopened = await PartitionLog.OpenAsync(dir.Path, LogTestKit.Options());
        var appender = await Open(reopened, time, dedupWindow: null);

        var original = appender.CheckSequence(batch);
        Assert.NotNull(original);
        Assert.Null(original.Result); // found by the scan: no first answer to repeat
        var answer = await appender.RepeatedBatchResultAsync(batch, Validate(batch), original);

        Assert.Equal(1, answer.BaseOffset);
        Assert.Equal(3, answer.Count);
        Assert.Equal(Start.ToUnixTimeMilliseconds(), answer.TimestampMs);
    }

    private static Task<IdempotentAppender> Open(PartitionLog log, TimeProvider time, TimeSpan? dedupWindow) =>
        IdempotentAppender.OpenAsync(log, TimeSpan.FromDays(1), dedupWindow, time, NullLogger.Instance, "t", 0);

    /// <summary>A producer's batch of messages m0, m1, ..., each with the given message id (null: none).</summary>
    private static ProduceBatch Batch(long producerId, int baseSequence, params string?[] ids) =>
        ProduceBatchEncoder.Encode(ids.Select((id, i) => new Message(null, Encoding.UTF8.GetBytes($"m{i}"),
            id is null ? null : [new MessageHeader(GranaryHeaders.MessageId, Encoding.UTF8.GetBytes(id))])).ToArray(), producerId, baseSequence);

    /// <summary>The check of the batch, which leaves its message ids in <see cref="AppendScratch"/> for this thread.</summary>
    private static ProducedBatchSummary Validate(ProduceBatch batch) => ProducedBatchValidator.Validate(batch, batch.Records.Span, 1 << 20, "t");
}
