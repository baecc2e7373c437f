using System.Text;
using Granary.Records;

namespace Granary.Benchmarks.Delivery;

/// <summary>
/// A partition fetch's answer as the cursor receives it: <see cref="Batches"/> stored batches of
/// <see cref="PerBatch"/> keyed 100-byte records, one buffer. Encoded once; <see cref="Restamp"/> moves it to new
/// offsets in place, so that every fetch a benchmark offers is new to the cursor without encoding anything again (the
/// reader does not check the CRC, and the cursor keeps offsets in its own entries, not the buffer's).
/// </summary>
internal sealed class SampleFetch
{
    public const int Batches = 10, PerBatch = 100, Messages = Batches * PerBatch;

    private readonly byte[] _bytes;
    private readonly int[] _batchStarts = new int[Batches];

    public SampleFetch()
    {
        var buffer = new List<byte>();
        for (int b = 0; b < Batches; b++)
        {
            _batchStarts[b] = buffer.Count;
            buffer.AddRange(RecordBatchBuilder.Encode(Enumerable.Range(0, PerBatch).Select(i => new LogRecord(new byte[100])
            {
                // Seven keys: KeyShared holds and hashes are exercised; one member holds them all, so none waits.
                Key = Encoding.UTF8.GetBytes($"key-{i % 7}"),
                TimestampMs = 1_700_000_000_000,
            })));
        }
        _bytes = [.. buffer];
    }

    /// <summary>The first offset of the fetch as last stamped.</summary>
    public long FromOffset { get; private set; }

    /// <summary>The buffer, as <c>FetchResult.Batches</c> carries it.</summary>
    public ReadOnlyMemory<byte> Bytes => _bytes;

    /// <summary>Writes base offsets so that the fetch holds offsets [<paramref name="fromOffset"/>, + <see cref="Messages"/>).</summary>
    public void Restamp(long fromOffset)
    {
        FromOffset = fromOffset;
        for (int b = 0; b < Batches; b++) RecordBatchCodec.WriteBaseOffset(_bytes.AsSpan(_batchStarts[b]), fromOffset + (long)b * PerBatch);
    }
}
