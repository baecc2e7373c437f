using Granary.Records;
using System.Buffers.Binary;
using Granary.Storage;

namespace Granary.Tests.Storage;

/// <summary>Helpers shared by the storage tests: small options, batches of text payloads, reading everything back.</summary>
internal static class LogTestKit
{
    public static PartitionLogOptions Options(FlushPolicy policy = FlushPolicy.Always, long segmentBytes = 1 << 20, int indexIntervalBytes = 256) => new()
    {
        FlushPolicy = policy,
        SegmentBytes = segmentBytes,
        IndexIntervalBytes = indexIntervalBytes,
    };

    public static byte[] Batch(params string[] payloads) => Batch(1_700_000_000_000, payloads);

    public static byte[] Batch(long timestampMs, params string[] payloads) =>
        RecordBatchBuilder.Encode(payloads.Select(p => new LogRecord(Encoding.UTF8.GetBytes(p)) { TimestampMs = timestampMs }));

    /// <summary>Every record from <paramref name="from"/> to the end, as (offset, payload text).</summary>
    public static async Task<List<(long Offset, string Payload)>> ReadAllAsync(IPartitionLog log, long from = -1, int maxBytes = 64 * 1024)
    {
        var records = new List<(long, string)>();
        long offset = from < 0 ? log.StartOffset : from;
        while (offset < log.EndOffset)
        {
            using var result = await log.ReadAsync(offset, maxBytes);
            Assert.Equal(LogReadStatus.Ok, result.Status);
            Assert.True(result.BatchCount > 0, $"no batch returned at offset {offset} below end {log.EndOffset}");
            foreach (var batch in result.GetBatches())
            {
                foreach (var record in batch)
                {
                    if (record.Offset >= offset) records.Add((record.Offset, Encoding.UTF8.GetString(record.Payload.Span)));
                }
            }
            Assert.True(result.NextOffset > offset);
            offset = result.NextOffset;
        }
        return records;
    }

    public static async Task<List<string>> ReadAllPayloadsAsync(IPartitionLog log) =>
        (await ReadAllAsync(log)).Select(r => r.Payload).ToList();

    /// <summary>Applies <paramref name="patch"/> to an encoded batch and recomputes its CRC, so only the patch is wrong.</summary>
    public static byte[] PatchAndRecrc(byte[] batch, Action<byte[]> patch)
    {
        patch(batch);
        BinaryPrimitives.WriteUInt32LittleEndian(batch.AsSpan(12), Checksum.Crc32C(batch.AsSpan(16)));
        return batch;
    }

    public static void AppendBytes(string file, byte[] bytes)
    {
        using var stream = new FileStream(file, FileMode.Append, FileAccess.Write);
        stream.Write(bytes);
    }

    public static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
    }
}
