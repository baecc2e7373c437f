using BenchmarkDotNet.Attributes;
using Granary.Records;

namespace Granary.Benchmarks.Records;

/// <summary>
/// The record-batch codec on the produce and read paths: encoding 1,000 records of 100 bytes, validating the batch
/// (CRC and structure, what a partition does once per append), and walking its records (what a reader does).
/// </summary>
[MemoryDiagnoser]
public class RecordBatchBenchmarks
{
    private const int Records = 1000;
    private readonly byte[] _payload = new byte[100];
    private readonly byte[] _key = "order-42"u8.ToArray();
    private RecordBatchBuilder _builder = null!;
    private byte[] _batch = [];

    [GlobalSetup]
    public void Setup()
    {
        new Random(1).NextBytes(_payload);
        _builder = new RecordBatchBuilder();
        _batch = RecordBatchBuilder.Encode(Enumerable.Range(0, Records).Select(i => Record(i)));
    }

    [GlobalCleanup]
    public void Cleanup() => _builder.Dispose();

    /// <summary>RecordBatchBuilder.Add for 1,000 records, then Build, on a reused builder (its buffer is pooled).</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public int AddAndBuild()
    {
        _builder.Reset();
        for (int i = 0; i < Records; i++) _builder.Add(Record(i));
        return _builder.Build().Length;
    }

    /// <summary>RecordBatchCodec.Validate of a 1,000-record batch.</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public string? Validate() => RecordBatchCodec.Validate(_batch, long.MaxValue);

    /// <summary>Enumerating a 1,000-record batch's records and touching each payload.</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public long Enumerate()
    {
        long bytes = 0;
        foreach (var record in new RecordBatch(_batch)) bytes += record.Payload.Length + record.Offset;
        return bytes;
    }

    private LogRecord Record(int i) => new(_payload) { Key = _key, TimestampMs = 1_700_000_000_000 + i };
}
