using System.Collections;

namespace Granary.Records;

/// <summary>
/// A view over one whole encoded batch (no copy). Enumerating it decodes the records lazily. The batch must have been
/// validated (the log validates on append and verifies the CRC on read) before its records are enumerated.
/// </summary>
public readonly struct RecordBatch : IEnumerable<StoredRecord>
{
    /// <summary>Wraps <paramref name="memory"/>, which must hold exactly one batch.</summary>
    public RecordBatch(ReadOnlyMemory<byte> memory) => Memory = memory;

    /// <summary>The encoded batch, header included.</summary>
    public ReadOnlyMemory<byte> Memory { get; }
    /// <summary>Offset of the first record.</summary>
    public long BaseOffset => RecordBatchCodec.ReadBaseOffset(Memory.Span);
    /// <summary>Number of records.</summary>
    public int RecordCount => RecordBatchCodec.ReadRecordCount(Memory.Span);
    /// <summary>Offset of the last record.</summary>
    public long LastOffset => BaseOffset + RecordCount - 1;
    /// <summary>Offset after the last record.</summary>
    public long NextOffset => BaseOffset + RecordCount;
    /// <summary>Largest record timestamp in the batch.</summary>
    public long MaxTimestampMs => RecordBatchCodec.ReadMaxTimestamp(Memory.Span);

    /// <summary>Returns a record enumerator.</summary>
    public Enumerator GetEnumerator() => new(Memory);
    IEnumerator<StoredRecord> IEnumerable<StoredRecord>.GetEnumerator() => GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Decodes records one by one.</summary>
    public struct Enumerator : IEnumerator<StoredRecord>
    {
        private readonly ReadOnlyMemory<byte> _batch;
        private readonly long _baseOffset;
        private readonly long _firstTimestampMs;
        private readonly long _defaultTtlMs;
        private readonly int _headerSize;
        private readonly int _count;
        private int _index;
        private int _position;

        internal Enumerator(ReadOnlyMemory<byte> batch)
        {
            _batch = batch;
            var span = batch.Span;
            _baseOffset = RecordBatchCodec.ReadBaseOffset(span);
            _count = RecordBatchCodec.ReadRecordCount(span);
            _firstTimestampMs = RecordBatchCodec.ReadFirstTimestamp(span);
            _defaultTtlMs = RecordBatchCodec.ReadDefaultTtl(span);
            _headerSize = RecordBatchCodec.HeaderSizeOf(span);
            _index = -1;
            _position = _headerSize;
            Current = default;
        }

        /// <inheritdoc />
        public StoredRecord Current { get; private set; }
        readonly object IEnumerator.Current => Current;

        /// <inheritdoc />
        public bool MoveNext()
        {
            if (_index + 1 >= _count) return false;
            _index++;
            var span = _batch.Span;
            int start = _position;
            int p = start;
            if (!VarInt.TryRead(span, ref p, out long bodyLength)) throw Malformed();
            int end = p + (int)bodyLength;
            byte flags = span[p++];
            VarInt.TryRead(span, ref p, out long timestampDelta);
            long timestamp = _firstTimestampMs + timestampDelta;
            long? expires = null, deliverAt = null, producerId = null;
            int sequence = 0;
            if ((flags & RecordBatchCodec.FlagExpiry) != 0) { VarInt.TryRead(span, ref p, out long v); expires = timestamp + v; }
            else if (_defaultTtlMs >= 0) expires = timestamp + _defaultTtlMs; // the topic's default, stamped in the batch
            if ((flags & RecordBatchCodec.FlagDeliverAt) != 0) { VarInt.TryRead(span, ref p, out long v); deliverAt = timestamp + v; }
            if ((flags & RecordBatchCodec.FlagProducer) != 0)
            {
                VarInt.TryRead(span, ref p, out long pid);
                VarInt.TryRead(span, ref p, out long seq);
                producerId = pid;
                sequence = (int)seq;
            }
            ReadOnlyMemory<byte>? key = null;
            if ((flags & RecordBatchCodec.FlagKey) != 0) key = ReadBytes(span, ref p);
            VarInt.TryRead(span, ref p, out long headerCount);
            int headersStart = p;
            for (long h = 0; h < headerCount; h++)
            {
                SkipBytes(span, ref p);
                SkipBytes(span, ref p);
            }
            var headers = _batch[headersStart..p];
            var payload = ReadBytes(span, ref p);
            if (p != end) throw Malformed();
            _position = end;
            Current = new StoredRecord(_baseOffset + _index, timestamp, expires, deliverAt, producerId, sequence, key, headers, (int)headerCount, payload, _batch[start..end]);
            return true;
        }

        private readonly ReadOnlyMemory<byte> ReadBytes(ReadOnlySpan<byte> span, ref int p)
        {
            VarInt.TryRead(span, ref p, out long length);
            var slice = _batch.Slice(p, (int)length);
            p += (int)length;
            return slice;
        }

        private static void SkipBytes(ReadOnlySpan<byte> span, ref int p)
        {
            VarInt.TryRead(span, ref p, out long length);
            p += (int)length;
        }

        private readonly InvalidDataException Malformed() => new($"Record {_index} of the batch at offset {_baseOffset} is malformed.");

        /// <inheritdoc />
        public void Reset()
        {
            _index = -1;
            _position = _headerSize;
        }

        /// <inheritdoc />
        public readonly void Dispose() { }
    }
}
