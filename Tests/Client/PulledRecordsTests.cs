using Granary.Records;

namespace Granary.Tests.Client;

/// <summary>The SDK's reading of a pull's answer: exactly the leased records, and a clear error for anything else.</summary>
public sealed class PulledRecordsTests
{
    /// <summary>A batch of <paramref name="count"/> records at <paramref name="baseOffset"/>, as the broker stores it.</summary>
    private static byte[] Batch(long baseOffset, int count)
    {
        var batch = RecordBatchBuilder.Encode(Enumerable.Range(0, count).Select(i => new LogRecord(Encoding.UTF8.GetBytes($"p{baseOffset + i}"))
        {
            Key = Encoding.UTF8.GetBytes($"k{baseOffset + i}"),
            Headers = [new RecordHeader("h", Encoding.UTF8.GetBytes($"v{baseOffset + i}"))],
            TimestampMs = 1_000 + i,
        }));
        RecordBatchCodec.WriteBaseOffset(batch, baseOffset);
        return batch;
    }

    private static PullResult Pull(byte[] records, params long[] offsets) =>
        new(3, records, [.. offsets.Select((o, i) => new LeasedRecord(o, i + 1, 100 + o))]);

    [Fact]
    public void AValidAnswer_DecodesToItsLeases_WithKeysHeadersAndPayloadsAsSlicesOfTheBuffer()
    {
        byte[] records = [.. Batch(10, 2), .. Batch(20, 1)];
        var read = PulledRecords.Read(Pull(records, 10, 11, 20));
        Assert.Equal([10L, 11, 20], read.Select(r => r.Record.Offset));
        Assert.Equal([1, 2, 3], read.Select(r => r.Lease.Attempt));
        Assert.Equal("p11", Encoding.UTF8.GetString(read[1].Record.Payload.Span));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(read[1].Record.Payload, out var segment));
        Assert.Same(records, segment.Array); // a view, not a copy
        Assert.Equal("v20", Encoding.UTF8.GetString(read[2].Record.GetHeaders().Single().Value.Span));
    }

    public static TheoryData<string> Forgeries => ["truncated", "flipped", "wrong-offset", "more-leases", "fewer-leases", "huge-length", "short-tail", "unknown-magic"];

    [Theory]
    [MemberData(nameof(Forgeries))]
    public void AShortDamagedOrForgedAnswer_IsRefusedAsCorruptData_NotMisreadNorACrash(string forgery)
    {
        byte[] records = [.. Batch(10, 2), .. Batch(20, 1)];
        PullResult pull = forgery switch
        {
            "truncated" => Pull(records[..^5], 10, 11, 20),
            "flipped" => Pull(Flip(records, records.Length - 2), 10, 11, 20),
            "wrong-offset" => Pull(records, 10, 12, 20),
            "more-leases" => Pull(records, 10, 11, 20, 21),
            "fewer-leases" => Pull(records, 10, 11),
            "huge-length" => Pull(WithLength(records, int.MaxValue), 10, 11, 20),
            "short-tail" => Pull([.. records, 1, 2, 3], 10, 11, 20),
            "unknown-magic" => Pull(Flip(records, 16), 10, 11, 20),
            _ => throw new ArgumentOutOfRangeException(nameof(forgery)),
        };
        var error = Assert.Throws<GranaryException>(() => PulledRecords.Read(pull));
        Assert.Equal(GranaryErrorCode.CorruptData, error.Code);
        Assert.Contains("partition 3", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A compact answer for records 10, 11 and 20: runs (10, lease 100, 2) and (20, lease 102, 1).</summary>
    private static LeasedBatches Runs(byte[] records, LeaseRun[]? runs = null, params LeaseAttempt[] redeliveries) =>
        new(3, new PulledBytes(records), runs ?? [new LeaseRun(10, 100, 2), new LeaseRun(20, 102, 1)], redeliveries);

    [Fact]
    public void ACompactAnswer_ExpandsToOneLeasePerRecord_LeaseIdsAlongEachRun_AttemptOneUnlessGiven()
    {
        byte[] records = [.. Batch(10, 2), .. Batch(20, 1)];
        var read = PulledRecords.Read(Runs(records, null, new LeaseAttempt(11, 3)));
        Assert.Equal([new LeasedRecord(10, 1, 100), new LeasedRecord(11, 3, 101), new LeasedRecord(20, 1, 102)], read.Select(r => r.Lease));
        Assert.Equal([10L, 11, 20], read.Select(r => r.Record.Offset));
        Assert.Equal("p20", Encoding.UTF8.GetString(read[2].Record.Payload.Span));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(read[2].Record.Payload, out var segment));
        Assert.Same(records, segment.Array); // a view, not a copy
    }

    /// <summary>Which of the records 10, 11, 20 are redeliveries (attempt 2 + position), as a bit mask: every case of three.</summary>
    public static TheoryData<int> AttemptMasks => [.. Enumerable.Range(0, 8)];

    [Theory]
    [MemberData(nameof(AttemptMasks))]
    public void EveryPlaceOfAttemptsOtherThanOne_DecodesToExactlyThoseAttempts(int mask)
    {
        byte[] records = [.. Batch(10, 2), .. Batch(20, 1)];
        long[] offsets = [10, 11, 20];
        int[] expected = [.. offsets.Select((_, i) => (mask & (1 << i)) != 0 ? 2 + i : 1)];
        LeaseAttempt[] redeliveries = [.. offsets.Select((o, i) => new LeaseAttempt(o, expected[i])).Where(a => a.Attempt != 1)];
        var read = PulledRecords.Read(Runs(records, null, redeliveries));
        Assert.Equal(expected, read.Select(r => r.Lease.Attempt));
        Assert.Equal([100L, 101, 102], read.Select(r => r.Lease.LeaseId));
    }

    [Fact]
    public void AnEmptyCompactAnswer_ReadsAsNothing()
    {
        Assert.Empty(PulledRecords.Read(LeasedBatches.Empty(3)));
    }

    public static TheoryData<string> CompactForgeries =>
    [
        "run-empty", "run-negative", "run-wrong-offset", "runs-more", "runs-fewer", "run-huge", "run-offset-overflow", "run-lease-overflow",
        "no-runs", "attempt-one", "attempt-zero", "attempt-negative", "redelivery-unknown-offset", "redeliveries-out-of-order",
        "redelivery-twice", "records-truncated", "records-flipped",
    ];

    [Theory]
    [MemberData(nameof(CompactForgeries))]
    public void AForgedOrInconsistentCompactAnswer_IsRefusedAsCorruptData_NotMisreadNorACrash(string forgery)
    {
        byte[] records = [.. Batch(10, 2), .. Batch(20, 1)];
        LeasedBatches pull = forgery switch
        {
            "run-empty" => Runs(records, [new LeaseRun(10, 100, 2), new LeaseRun(20, 102, 0), new LeaseRun(20, 102, 1)]),
            "run-negative" => Runs(records, [new LeaseRun(10, 100, 2), new LeaseRun(20, 102, -1)]),
            "run-wrong-offset" => Runs(records, [new LeaseRun(10, 100, 2), new LeaseRun(21, 102, 1)]),
            "runs-more" => Runs(records, [new LeaseRun(10, 100, 2), new LeaseRun(20, 102, 2)]),
            "runs-fewer" => Runs(records, [new LeaseRun(10, 100, 2)]),
            "run-huge" => Runs(records, [new LeaseRun(10, 100, int.MaxValue)]),
            "run-offset-overflow" => Runs(records, [new LeaseRun(long.MaxValue - 1, 100, 3)]),
            "run-lease-overflow" => Runs(records, [new LeaseRun(10, long.MaxValue, 2), new LeaseRun(20, 102, 1)]),
            "no-runs" => Runs(records, []),
            "attempt-one" => Runs(records, null, new LeaseAttempt(11, 1)),
            "attempt-zero" => Runs(records, null, new LeaseAttempt(10, 0)),
            "attempt-negative" => Runs(records, null, new LeaseAttempt(20, -5)),
            "redelivery-unknown-offset" => Runs(records, null, new LeaseAttempt(12, 2)),
            "redeliveries-out-of-order" => Runs(records, null, new LeaseAttempt(20, 2), new LeaseAttempt(10, 2)),
            "redelivery-twice" => Runs(records, null, new LeaseAttempt(11, 2), new LeaseAttempt(11, 3)),
            "records-truncated" => Runs(records[..^5]),
            "records-flipped" => Runs(Flip(records, records.Length - 2)),
            _ => throw new ArgumentOutOfRangeException(nameof(forgery)),
        };
        var error = Assert.Throws<GranaryException>(() => PulledRecords.Read(pull));
        Assert.Equal(GranaryErrorCode.CorruptData, error.Code);
        Assert.Contains("partition 3", error.Message, StringComparison.Ordinal);
    }

    private static byte[] Flip(byte[] bytes, int at)
    {
        var copy = bytes.ToArray();
        copy[at] ^= 0x5A;
        return copy;
    }

    private static byte[] WithLength(byte[] bytes, int length)
    {
        var copy = bytes.ToArray();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(8), length);
        return copy;
    }
}
