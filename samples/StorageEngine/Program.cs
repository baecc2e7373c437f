// The README's storage-engine example: append a batch to a partition log, fsynced, and read it back. Its data goes
// to ./data/orders/0.
// <storage-engine>
using Granary.Records;
using Granary.Storage;

await using var log = PartitionLog.Open("data/orders/0", new PartitionLogOptions { FlushPolicy = FlushPolicy.Always });

using var builder = new RecordBatchBuilder();
builder.Add(new LogRecord("hello"u8.ToArray()) { Key = "order-42"u8.ToArray(), TimestampMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
LogAppendResult appended = await log.AppendAsync(builder.Build());   // completes once fsynced

using LogReadResult read = await log.ReadAsync(appended.BaseOffset, maxBytes: 1 << 20);
foreach (RecordBatch batch in read.GetBatches())
    foreach (StoredRecord record in batch)
        Console.WriteLine($"{record.Offset}: {System.Text.Encoding.UTF8.GetString(record.Payload.Span)}");
// </storage-engine>
