using Granary.Records;
using System.Buffers.Binary;
using Granary.Storage;

namespace Granary.Tests.Storage;

public sealed class LargeLogTests
{
    [Fact]
    public async Task OneMillionRecords_WrittenReadBackAndCompared()
    {
        using var dir = new TempDirectory();
        const int total = 1_000_000, perBatch = 1000;
        var options = new PartitionLogOptions { SegmentBytes = 16 << 20, FlushPolicy = FlushPolicy.Always };
        await using (var log = PartitionLog.Open(dir.Path, options))
        {
            using var builder = new RecordBatchBuilder(perBatch * 64);
            var payload = new byte[40];
            for (int offset = 0; offset < total; offset += perBatch)
            {
                builder.Reset();
                for (int i = offset; i < offset + perBatch; i++)
                {
                    Fill(payload, i);
                    builder.Add(new LogRecord(payload) { Key = BitConverter.GetBytes(i % 97), TimestampMs = 1_700_000_000_000 + i });
                }
                Assert.Equal(offset, (await log.AppendAsync(builder.Build())).BaseOffset);
            }
            Assert.True(log.SegmentCount > 1);
        }

        await using var reopened = PartitionLog.Open(dir.Path, options);
        Assert.Equal(total, reopened.EndOffset);
        long expected = 0;
        var expectedPayload = new byte[40];
        while (expected < total)
        {
            using var result = await reopened.ReadAsync(expected, 1 << 20);
            foreach (var batch in result.GetBatches())
            {
                foreach (var record in batch)
                {
                    Assert.Equal(expected, record.Offset);
                    Fill(expectedPayload, (int)expected);
                    if (!record.Payload.Span.SequenceEqual(expectedPayload)) Assert.Fail($"payload of offset {expected} differs");
                    if (BinaryPrimitives.ReadInt32LittleEndian(record.Key!.Value.Span) != expected % 97) Assert.Fail($"key of offset {expected} differs");
                    if (record.TimestampMs != 1_700_000_000_000 + expected) Assert.Fail($"timestamp of offset {expected} differs");
                    expected++;
                }
            }
        }
        Assert.Equal(total, expected);
    }

    private static void Fill(byte[] payload, int offset)
    {
        BinaryPrimitives.WriteInt32LittleEndian(payload, offset);
        for (int i = 4; i < payload.Length; i++) payload[i] = (byte)(offset * 31 + i);
    }
}
