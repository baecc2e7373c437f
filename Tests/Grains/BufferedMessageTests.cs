using Granary.Grains.Cursors;
using Granary.Records;

namespace Granary.Tests.Grains;

/// <summary>The cursor's compact entries: decoded once from a fetch's bytes, pointing into it, detachable from it.</summary>
public sealed class BufferedMessageTests
{
    private static byte[] Fetched()
    {
        var batch = RecordBatchBuilder.Encode(Enumerable.Range(0, 50).Select(i => new LogRecord(Encoding.UTF8.GetBytes($"payload-{i}"))
        {
            Key = i % 2 == 0 ? Encoding.UTF8.GetBytes($"k{i % 3}") : (ReadOnlyMemory<byte>?)null,
            Headers = [new RecordHeader("h", Encoding.UTF8.GetBytes($"v{i}"))],
            TimestampMs = 5_000 + i,
            ExpiresAtMs = i == 7 ? 9_000 : null,
            DeliverAtMs = i == 8 ? 8_000 : null,
        }));
        RecordBatchCodec.WriteBaseOffset(batch, 100);
        return batch;
    }

    [Fact]
    public void EntriesCarryTheDeliveryFacts_AndKeysWithEqualBytesShareAHash()
    {
        var entries = StoredBatches.Read(Fetched(), 100, 150).Select(r => BufferedMessage.From(r)).ToList();
        Assert.Equal(Enumerable.Range(100, 50).Select(i => (long)i), entries.Select(e => e.Offset));
        Assert.True(entries[7].Expires && entries[7].IsExpiredAt(9_000) && !entries[7].IsExpiredAt(8_999));
        Assert.False(entries[6].Expires);
        Assert.True(entries[8].IsDelayed);
        Assert.Equal(8_000, entries[8].DeliverAtMs);
        Assert.False(entries[1].HasKey);
        Assert.Equal(entries[0].KeyHash, entries[6].KeyHash); // both "k0"
        Assert.NotEqual(entries[0].KeyHash, entries[2].KeyHash); // "k0" and "k2"
        Assert.Equal("payload-9".Length, entries[9].PayloadLength);
    }

    [Fact]
    public void ACompactedEntry_HoldsOnlyItsRecord_AndDecodesAndPullsTheSame()
    {
        var fetched = Fetched();
        var entry = StoredBatches.Read(fetched, 100, 150).Select(r => BufferedMessage.From(r)).ElementAt(12);
        var compact = entry.Compact();
        Assert.True(compact.Batch.Length < fetched.Length / 10);
        Assert.Equal(compact.Batch.Length, compact.Compact().Batch.Length);
        Assert.True(entry.Record.SequenceEqual(compact.Record));
        var decoded = compact.Decode();
        Assert.Equal(112, decoded.Offset);
        Assert.Equal(5_012, decoded.TimestampMs);
        Assert.Equal("payload-12", Encoding.UTF8.GetString(decoded.Payload.Span));
        Assert.Equal("k0", Encoding.UTF8.GetString(decoded.Key!.Value.Span));
        Assert.Equal("v12", Encoding.UTF8.GetString(decoded.GetHeaders().Single().Value.Span));
        var fromOriginal = PullAnswer.Write(0, [entry], [new LeasedRecord(112, 1, 1)]);
        var fromCompact = PullAnswer.Write(0, [compact], [new LeasedRecord(112, 1, 1)]);
        Assert.Equal(fromOriginal.Records.ToArray(), fromCompact.Records.ToArray());
    }
}
