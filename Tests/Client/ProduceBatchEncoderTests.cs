using Granary.Records;

namespace Granary.Tests.Client;

/// <summary>How the producer encodes a batch and what the partition's stamp makes of it (issue 18).</summary>
public sealed class ProduceBatchEncoderTests
{
    [Fact]
    public void Encoded_TimesAreRelativeToTheEncoderClock_SoTheBrokersStampDecides_AClientClockSkewDoesNotShiftThem()
    {
        // The client's clock is an hour behind the broker's; it asks for delivery 3 s from its now and a 5 s TTL.
        long clientNow = 1_700_000_000_000 - 3_600_000;
        using var builder = new RecordBatchBuilder();
        var message = new Message("order-7"u8.ToArray(), "body"u8.ToArray(), [new MessageHeader(GranaryHeaders.MessageId, "m-1"u8.ToArray())])
        {
            TimeToLiveMs = 5_000,
            DeliverAtMs = clientNow + 3_000,
        };
        ProduceBatchEncoder.Add(builder, message, clientNow, producerId: 7, sequence: 10);
        ProduceBatchEncoder.Add(builder, new Message(null, "late"u8.ToArray(), null) { DeliverAtMs = clientNow - 1 }, clientNow, 7, 11);
        var batch = builder.Build().ToArray();

        // As the partition stamps it: its own time, the topic's default TTL for records without one.
        long brokerNow = 1_700_000_000_000;
        RecordBatchCodec.StampTime(batch, brokerNow, 60_000);

        Assert.Null(RecordBatchCodec.Validate(batch, int.MaxValue));
        var records = new RecordBatch(batch).ToList();
        Assert.Equal(brokerNow, records[0].TimestampMs);
        Assert.Equal(brokerNow + 3_000, records[0].DeliverAtMs); // a delay from the broker's time, not the client's
        Assert.Equal(brokerNow + 5_000, records[0].ExpiresAtMs);
        Assert.Equal("order-7", Encoding.UTF8.GetString(records[0].Key!.Value.Span));
        Assert.Equal((GranaryHeaders.MessageId, "m-1"), records[0].GetHeaders().Select(h => (h.Name, Encoding.UTF8.GetString(h.Value.Span))).Single());
        Assert.Equal((7L, 10), (records[0].ProducerId!.Value, records[0].Sequence));
        Assert.Null(records[1].DeliverAtMs); // a deliver-at already past is delivered at once
        Assert.Equal(brokerNow + 60_000, records[1].ExpiresAtMs); // the default TTL
        Assert.Equal((7L, 11), (records[1].ProducerId!.Value, records[1].Sequence));
    }
}
