using Granary.Records;
using System.Buffers.Binary;
using Granary.Storage;

namespace Granary.Tests.Storage;

public sealed class RecordBatchCodecTests
{
    [Fact]
    public void RoundTrip_AllFields_DecodesWhatWasEncoded()
    {
        var records = new[]
        {
            new LogRecord(Encoding.UTF8.GetBytes("first"))
            {
                Key = Encoding.UTF8.GetBytes("order-42"),
                Headers = [new RecordHeader("content-type", Encoding.UTF8.GetBytes("text/plain")), new RecordHeader("trace-ïd", new byte[] { 0, 255 })],
                TimestampMs = 1_700_000_000_500,
                ExpiresAtMs = 1_700_000_060_500,
                DeliverAtMs = 1_700_000_010_000,
                ProducerId = 987_654_321_012,
                Sequence = 41,
            },
            // Timestamps may go backwards inside a batch (producer clocks); deltas are signed.
            new LogRecord(Encoding.UTF8.GetBytes("second")) { TimestampMs = 1_700_000_000_100, ProducerId = 987_654_321_012, Sequence = 42 },
        };

        var decoded = Decode(RecordBatchBuilder.Encode(records));

        Assert.Equal(2, decoded.Count);
        var first = decoded[0];
        Assert.Equal(0, first.Offset);
        Assert.Equal("first", Encoding.UTF8.GetString(first.Payload.Span));
        Assert.Equal("order-42", Encoding.UTF8.GetString(first.Key!.Value.Span));
        var headers = first.GetHeaders();
        Assert.Equal(["content-type", "trace-ïd"], headers.Select(h => h.Name));
        Assert.Equal("text/plain", Encoding.UTF8.GetString(headers[0].Value.Span));
        Assert.Equal(new byte[] { 0, 255 }, headers[1].Value.ToArray());
        Assert.Equal(1_700_000_000_500, first.TimestampMs);
        Assert.Equal(1_700_000_060_500, first.ExpiresAtMs);
        Assert.Equal(1_700_000_010_000, first.DeliverAtMs);
        Assert.Equal(987_654_321_012, first.ProducerId);
        Assert.Equal(41, first.Sequence);

        var second = decoded[1];
        Assert.Equal(1, second.Offset);
        Assert.Equal(1_700_000_000_100, second.TimestampMs);
        Assert.Null(second.Key);
        Assert.Null(second.ExpiresAtMs);
        Assert.Null(second.DeliverAtMs);
        Assert.Equal(42, second.Sequence);
        Assert.Equal(0, second.HeaderCount);
    }

    [Fact]
    public void RoundTrip_EmptyKeyAndNoHeaders_KeepsEmptyKeyDistinctFromNoKey()
    {
        var decoded = Decode(RecordBatchBuilder.Encode([
            new LogRecord(Array.Empty<byte>()) { Key = Array.Empty<byte>(), Headers = [] },
            new LogRecord(Array.Empty<byte>()),
        ]));

        Assert.NotNull(decoded[0].Key);
        Assert.Equal(0, decoded[0].Key!.Value.Length);
        Assert.Null(decoded[1].Key);
        Assert.All(decoded, r => Assert.Equal(0, r.Payload.Length));
        Assert.All(decoded, r => Assert.Empty(r.GetHeaders()));
    }

    [Fact]
    public void RoundTrip_OneMebibytePayload_IsByteForByteEqual()
    {
        var payload = new byte[1 << 20];
        new Random(7).NextBytes(payload);

        var batch = RecordBatchBuilder.Encode([new LogRecord(payload) { Key = new byte[] { 1 } }]);

        Assert.Null(RecordBatchCodec.Validate(batch, int.MaxValue));
        Assert.True(Decode(batch)[0].Payload.Span.SequenceEqual(payload));
    }

    [Fact]
    public void Validate_AnyFlippedBitAfterTheBaseOffset_IsRejected()
    {
        var batch = RecordBatchBuilder.Encode([
            new LogRecord(Encoding.UTF8.GetBytes("payload")) { Key = Encoding.UTF8.GetBytes("k"), Headers = [new RecordHeader("h", new byte[] { 9 })] },
        ]);
        Assert.Null(RecordBatchCodec.Validate(batch, int.MaxValue));

        // The base offset (bytes 0-7) is stamped by the log and checked by sequence, not by the CRC.
        for (int position = 8; position < batch.Length; position++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                var damaged = (byte[])batch.Clone();
                damaged[position] ^= (byte)(1 << bit);
                Assert.NotNull(RecordBatchCodec.Validate(damaged, int.MaxValue));
            }
        }
    }

    [Fact]
    public void Validate_TruncatedOrOversizedOrUnknownVersion_IsRejectedWithReason()
    {
        var batch = LogTestKit.Batch("a", "b");

        Assert.Contains("length", RecordBatchCodec.Validate(batch.AsSpan(0, batch.Length - 1), int.MaxValue));
        Assert.Contains("shorter", RecordBatchCodec.Validate(batch.AsSpan(0, 10), int.MaxValue));
        Assert.Contains("exceeds the limit", RecordBatchCodec.Validate(batch, batch.Length - 1));
        var future = (byte[])batch.Clone();
        future[16] = 3;
        Assert.Contains("version", RecordBatchCodec.Validate(future, int.MaxValue));
    }

    [Fact]
    public void Version2_DefaultTtl_AppliesToRecordsWithoutTheirOwnExpiry_AndStampTimeMovesEveryTimestamp()
    {
        var batch = RecordBatchBuilder.Encode([
            new LogRecord("own"u8.ToArray()) { TimestampMs = 1000, ExpiresAtMs = 1500, DeliverAtMs = 1200 },
            new LogRecord("default"u8.ToArray()) { TimestampMs = 1000 },
        ]);
        Assert.Equal(2, batch[16]);
        Assert.Equal(46, RecordBatchCodec.HeaderSizeOf(batch));
        Assert.Null(Decode(batch)[1].ExpiresAtMs); // written without a default

        RecordBatchCodec.StampTime(batch, 9000, 60_000);

        Assert.Null(RecordBatchCodec.Validate(batch, int.MaxValue));
        var decoded = Decode(batch);
        Assert.Equal([9000L, 9000L], decoded.Select(r => r.TimestampMs));
        Assert.Equal(9500, decoded[0].ExpiresAtMs); // its own TTL, from the new timestamp
        Assert.Equal(9200, decoded[0].DeliverAtMs);
        Assert.Equal(69_000, decoded[1].ExpiresAtMs);
        var negative = (byte[])batch.Clone();
        RecordBatchCodec.StampTime(negative, 9000, -2);
        Assert.Contains("negative", RecordBatchCodec.Validate(negative, int.MaxValue));
    }

    [Theory]
    [InlineData(0)]                 // below the record's timestamp: lookups and retention would skip it
    [InlineData(1_700_000_000_001)] // above it
    public void Validate_HeaderMaxTimestampNotTheLargestRecordTimestamp_IsRejected(long statedMax)
    {
        var batch = LogTestKit.Batch(1_700_000_000_000, "a", "b");
        Assert.Null(RecordBatchCodec.Validate(batch, int.MaxValue));

        var lying = LogTestKit.PatchAndRecrc(batch, b => BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(30), statedMax));

        Assert.Contains("max timestamp", RecordBatchCodec.Validate(lying, int.MaxValue));
    }

    [Fact]
    public void Validate_MaxTimestampOfRecordsOutOfOrder_IsAccepted()
    {
        var batch = RecordBatchBuilder.Encode([
            new LogRecord(Encoding.UTF8.GetBytes("late")) { TimestampMs = 1_700_000_000_900 },
            new LogRecord(Encoding.UTF8.GetBytes("early")) { TimestampMs = 1_700_000_000_100 },
        ]);

        Assert.Null(RecordBatchCodec.Validate(batch, int.MaxValue));
    }

    [Fact]
    public void Validate_HeaderNameNotValidUtf8_IsRejected()
    {
        var batch = RecordBatchBuilder.Encode([new LogRecord(Encoding.UTF8.GetBytes("p")) { Headers = [new RecordHeader("n", new byte[] { 1 })] }]);
        int nameAt = batch.AsSpan(RecordBatchCodec.HeaderSize).IndexOf((byte)'n') + RecordBatchCodec.HeaderSize;

        var invalid = LogTestKit.PatchAndRecrc(batch, b => b[nameAt] = 0xFF);

        Assert.Contains("malformed", RecordBatchCodec.Validate(invalid, int.MaxValue));
        // What acceptance would have stored: a record every consumer fails to decode.
        Assert.ThrowsAny<DecoderFallbackException>(() => new RecordBatch(invalid).First().GetHeaders());
    }

    [Fact]
    public void Validate_NonZeroReservedAttributes_IsRejected()
    {
        var batch = LogTestKit.PatchAndRecrc(LogTestKit.Batch("x"), b => b[17] = 0x80);

        Assert.Contains("attributes", RecordBatchCodec.Validate(batch, int.MaxValue));
    }

    [Fact]
    public void Build_WithoutRecords_Throws()
    {
        using var builder = new RecordBatchBuilder();
        Assert.Throws<InvalidOperationException>(() => builder.Build());
    }

    [Fact]
    public void Builder_Reset_StartsANewBatchInTheSameBuffer()
    {
        using var builder = new RecordBatchBuilder(64);
        for (int i = 0; i < 1000; i++) builder.Add(new LogRecord(Encoding.UTF8.GetBytes($"first-{i}")));
        builder.Build();
        builder.Reset();
        builder.Add(new LogRecord(Encoding.UTF8.GetBytes("only")));

        var decoded = Decode(builder.Build().ToArray());

        Assert.Equal("only", Encoding.UTF8.GetString(Assert.Single(decoded).Payload.Span));
    }

    [Fact]
    public void Encoded_CopiedVerbatimAfterAHeader_DecodesToTheSameRecords()
    {
        var source = RecordBatchBuilder.Encode([
            new LogRecord("one"u8.ToArray()) { Key = "k"u8.ToArray(), TimestampMs = 1000, ExpiresAtMs = 5000, ProducerId = 7, Sequence = 3 },
            new LogRecord("two"u8.ToArray()) { Headers = [new RecordHeader("h", "v"u8.ToArray())], TimestampMs = 1000, DeliverAtMs = 2000 },
            new LogRecord("three"u8.ToArray()) { TimestampMs = 1000 },
        ]);
        var records = Decode(source);

        // Records 0 and 2 only, as a reader copying leased records does: header bytes copied, records memcpy'd.
        int header = RecordBatchCodec.HeaderSizeOf(source);
        var copy = new byte[header + records[0].Encoded.Length + records[2].Encoded.Length];
        source.AsSpan(0, header).CopyTo(copy);
        records[0].Encoded.Span.CopyTo(copy.AsSpan(header));
        records[2].Encoded.Span.CopyTo(copy.AsSpan(header + records[0].Encoded.Length));
        RecordBatchCodec.WriteHeader(copy, 0, 2, 1000, 1000);

        Assert.Null(RecordBatchCodec.Validate(copy, int.MaxValue));
        var decoded = Decode(copy);
        Assert.Equal(["one", "three"], decoded.Select(r => Encoding.UTF8.GetString(r.Payload.Span)));
        Assert.Equal(5000, decoded[0].ExpiresAtMs);
        Assert.Equal(3, decoded[0].Sequence);
        Assert.Equal("k", Encoding.UTF8.GetString(decoded[0].Key!.Value.Span));
        Assert.True(decoded[1].Encoded.Span.SequenceEqual(records[2].Encoded.Span));
    }

    private static List<StoredRecord> Decode(byte[] batch) => [.. new RecordBatch(batch)];
}
