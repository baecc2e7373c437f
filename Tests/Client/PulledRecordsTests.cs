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
