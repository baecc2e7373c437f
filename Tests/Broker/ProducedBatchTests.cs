using System.Buffers.Binary;
using Granary.Records;

namespace Granary.Tests.Broker;

/// <summary>
/// Batches a client sends as encoded bytes (issue 18): the partition checks them once; a malformed, truncated or forged
/// one is refused with InvalidArgument, nothing is stored and the partition goes on serving. Message-id duplicates are
/// cut out of an encoded batch.
/// </summary>
[Collection(BrokerCluster.Name)]
public sealed class ProducedBatchTests(BrokerClusterFixture fixture)
{
    // Describe is internal to the silos: asked from inside one.
    private async Task<long> EndOffsetAsync(string topic) =>
        (await fixture.Cluster.SiloGrainFactory().GetGrain<IPartitionGrain>($"{topic}/0").DescribeAsync()).EndOffset;

    private static Message Plain(string payload) => new(null, Encoding.UTF8.GetBytes(payload), null);

    private static ProduceBatch Encode(long producerId, int baseSequence, params Message[] messages) =>
        ProduceBatchEncoder.Encode(messages, producerId, baseSequence);

    /// <summary>A batch of the given records as a client could forge it (any field), with a correct CRC unless told.</summary>
    private static byte[] Forge(params LogRecord[] records) => RecordBatchBuilder.Encode(records);

    private static byte[] Recrc(byte[] batch)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(batch.AsSpan(12), Checksum.Crc32C(batch.AsSpan(16)));
        return batch;
    }

    public static TheoryData<string> ForgedKinds => ["bad CRC", "record count above the batch's", "record count below the batch's",
        "header count lies", "producer id not the call's", "sequence not the call's", "producer fields without a producer",
        "no producer fields for a producer", "timestamp delta not 0", "negative time to live", "truncated", "truncated inside a record",
        "garbage", "version 1", "unknown version", "reserved attributes", "trailing bytes", "invalid UTF-8 header name", "huge count", "empty"];

    private static ProduceBatch Forged(string kind)
    {
        var one = Encode(0, 0, Plain("a"));
        var two = Encode(0, 0, Plain("a"), Plain("b"));
        var idempotent = Encode(77, 5, Plain("a"), Plain("b"));
        byte[] Copy(ProduceBatch b) => b.Records.ToArray();
        switch (kind)
        {
            case "bad CRC":
                var crc = Copy(two);
                crc[^1] ^= 0x20; // a payload byte: the CRC no longer matches
                return two with { Records = crc };
            case "record count above the batch's": return two with { RecordCount = 3 };
            case "record count below the batch's": return two with { RecordCount = 1 };
            case "header count lies":
                var lies = Copy(two);
                BinaryPrimitives.WriteInt32LittleEndian(lies.AsSpan(18), 1);
                return two with { Records = Recrc(lies), RecordCount = 1 };
            case "producer id not the call's": return idempotent with { ProducerId = 78 };
            case "sequence not the call's": return idempotent with { BaseSequence = 6 };
            case "producer fields without a producer": return idempotent with { ProducerId = 0, BaseSequence = 0 };
            case "no producer fields for a producer": return two with { ProducerId = 77, BaseSequence = 0 };
            case "timestamp delta not 0":
                return new ProduceBatch(Forge(new LogRecord("a"u8.ToArray()) { TimestampMs = 1000 }, new LogRecord("b"u8.ToArray()) { TimestampMs = 900 }), 2);
            case "negative time to live":
                return new ProduceBatch(Forge(new LogRecord("a"u8.ToArray()) { TimestampMs = 1000, ExpiresAtMs = 999 }), 1);
            case "truncated": return two with { Records = two.Records[..^3] };
            case "truncated inside a record":
                // Length field and CRC made to agree with the cut: only the record structure is wrong.
                var cut = Copy(two)[..^1];
                BinaryPrimitives.WriteInt32LittleEndian(cut.AsSpan(8), cut.Length - 12);
                return two with { Records = Recrc(cut) };
            case "garbage":
                var garbage = new byte[200];
                new Random(18).NextBytes(garbage);
                return new ProduceBatch(garbage, 1);
            case "version 1":
                // The same records after a 38-byte version-1 header: a reader could decode it, but producers send version 2.
                var v2 = Copy(one);
                var v1 = new byte[v2.Length - 8];
                v2.AsSpan(0, 38).CopyTo(v1);
                v2.AsSpan(46).CopyTo(v1.AsSpan(38));
                v1[16] = 1;
                BinaryPrimitives.WriteInt32LittleEndian(v1.AsSpan(8), v1.Length - 12);
                return one with { Records = Recrc(v1) };
            case "unknown version":
                var v3 = Copy(one);
                v3[16] = 3;
                return one with { Records = Recrc(v3) };
            case "reserved attributes":
                var attributes = Copy(one);
                attributes[17] = 1;
                return one with { Records = Recrc(attributes) };
            case "trailing bytes":
                var trailing = Copy(one).Concat(new byte[] { 0, 0 }).ToArray();
                BinaryPrimitives.WriteInt32LittleEndian(trailing.AsSpan(8), trailing.Length - 12);
                return one with { Records = Recrc(trailing) };
            case "invalid UTF-8 header name":
                var named = Forge(new LogRecord("a"u8.ToArray()) { Headers = [new RecordHeader("n", "v"u8.ToArray())] });
                named[named.AsSpan(46).IndexOf((byte)'n') + 46] = 0xFF;
                return new ProduceBatch(Recrc(named), 1);
            case "huge count": return two with { RecordCount = int.MaxValue };
            case "empty": return new ProduceBatch(ReadOnlyMemory<byte>.Empty, 1);
            default: throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    [Theory]
    [MemberData(nameof(ForgedKinds))]
    public async Task ForgedOrMalformedBatchFromAClient_IsInvalidArgument_NothingStored_PartitionStillServes(string kind)
    {
        string topic = BrokerClusterFixture.UniqueTopic("forged");
        await fixture.Client.Admin.CreateTopicAsync(topic);
        // Over the wire, as a client that skips the SDK would send it.
        var partition = fixture.Cluster.Client.GetGrain<IPartitionGrain>($"{topic}/0");

        var refused = await Assert.ThrowsAsync<GranaryException>(() => partition.AppendAsync(Forged(kind)));

        Assert.Equal(GranaryErrorCode.InvalidArgument, refused.Code);
        Assert.Equal(0, await EndOffsetAsync(topic));
        var valid = await partition.AppendAsync(Encode(0, 0, Plain("after")));
        Assert.Equal(0, valid.BaseOffset);
        Assert.Equal(1, await EndOffsetAsync(topic));
    }

    [Fact]
    public async Task OversizeMessageInAnEncodedBatch_IsMessageTooLarge_ButTraceContextIsAllowedOnTop()
    {
        string topic = BrokerClusterFixture.UniqueTopic("forged");
        await fixture.Client.Admin.CreateTopicAsync(topic, new TopicOptions { MaxMessageBytes = 1024 });
        var partition = fixture.Cluster.Client.GetGrain<IPartitionGrain>($"{topic}/0");
        var traceparent = new MessageHeader(GranaryHeaders.TraceParent, new byte[55]);

        // Key, header names and values count as they do in the SDK's check: 1000 + 10 + (1 + 14) = 1025.
        var over = new Message(new byte[10], new byte[1000], [new MessageHeader("h", new byte[14])]);
        var tooLarge = await Assert.ThrowsAsync<GranaryException>(() => partition.AppendAsync(Encode(0, 0, Plain("fine"), over)));
        Assert.Equal(GranaryErrorCode.MessageTooLarge, tooLarge.Code);
        Assert.Equal(0, await EndOffsetAsync(topic));

        var exactly = new Message(new byte[10], new byte[1000], [new MessageHeader("h", new byte[13]), traceparent]);
        Assert.Equal(0, (await partition.AppendAsync(Encode(0, 0, exactly))).BaseOffset);
        Assert.Equal(1, await EndOffsetAsync(topic));
    }

    [Fact]
    public async Task EncodedBatchWithDuplicates_StoresOnlyTheNewOnes_AndReportsEveryOffset()
    {
        string topic = BrokerClusterFixture.UniqueTopic("dedup");
        await fixture.Client.Admin.CreateTopicAsync(topic, new TopicOptions { DedupWindow = TimeSpan.FromMinutes(10) });
        var partition = fixture.Cluster.Client.GetGrain<IPartitionGrain>($"{topic}/0");
        static Message WithId(string payload, string id) => new(null, Encoding.UTF8.GetBytes(payload), [new MessageHeader(GranaryHeaders.MessageId, Encoding.UTF8.GetBytes(id))]);

        Assert.Equal(0, (await partition.AppendAsync(Encode(9, 0, WithId("stored", "s")))).BaseOffset);
        // New, repeat of a stored one, new, repeat of one earlier in this batch, new.
        var result = await partition.AppendAsync(Encode(9, 1, WithId("a", "x"), WithId("b", "s"), WithId("c", "y"), WithId("d", "x"), Plain("e")));

        Assert.Equal([1L, 0, 2, 1, 3], result.Offsets!);
        Assert.Equal([false, true, false, true, false], result.Duplicates!);
        Assert.Equal(4, await EndOffsetAsync(topic));
        // The retry of the same batch (same producer and sequences) answers the same offsets and stores nothing.
        var retry = await partition.AppendAsync(Encode(9, 1, WithId("a", "x"), WithId("b", "s"), WithId("c", "y"), WithId("d", "x"), Plain("e")));
        Assert.Equal(result.Offsets, retry.Offsets);
        Assert.Equal(4, await EndOffsetAsync(topic));
        // The next sequence goes on after the whole batch, duplicates included.
        Assert.Equal(4, (await partition.AppendAsync(Encode(9, 6, Plain("f")))).BaseOffset);

        await using var consumer = fixture.Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = TimeSpan.FromMinutes(10) });
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 5, onEach: m => m.AckAsync());
        Assert.Equal(["stored", "a", "c", "e", "f"], received.Select(MessagingTests.Text));
    }
}
