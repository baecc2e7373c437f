using System.Buffers;

namespace Granary.Records;

/// <summary>
/// Encodes records into one batch in the layout of <see cref="RecordBatchCodec"/>, in a pooled buffer.
/// Not thread-safe. The memory returned by <see cref="Build"/> is valid until the next <see cref="Add"/>,
/// <see cref="Reset"/> or <see cref="Dispose"/>.
/// </summary>
public sealed class RecordBatchBuilder : IDisposable
{
    private byte[] _buffer;
    private int _length;
    private long _firstTimestampMs;
    private long _maxTimestampMs;

    /// <summary>Creates a builder whose pooled buffer starts at <paramref name="initialCapacity"/> bytes.</summary>
    public RecordBatchBuilder(int initialCapacity = 4096)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, RecordBatchCodec.HeaderSize + 64));
        Reset();
    }

    /// <summary>Records added since the last reset.</summary>
    public int Count { get; private set; }

    /// <summary>Encoded size of the batch so far, header included.</summary>
    public int SizeInBytes => _length;

    /// <summary>Starts a new, empty batch, keeping the buffer.</summary>
    public void Reset()
    {
        _length = RecordBatchCodec.HeaderSize;
        Count = 0;
        _firstTimestampMs = 0;
        _maxTimestampMs = long.MinValue;
    }

    /// <summary>Appends one record. Header names are encoded as UTF-8.</summary>
    public void Add(in LogRecord record)
    {
        ObjectDisposedException.ThrowIf(_buffer.Length == 0, this);
        if (Count == 0) _firstTimestampMs = record.TimestampMs;
        var headers = record.Headers;
        int headerCount = headers?.Count ?? 0;

        byte flags = 0;
        int body = 1 + VarInt.SizeOf(record.TimestampMs - _firstTimestampMs);
        if (record.ExpiresAtMs is { } expires) { flags |= RecordBatchCodec.FlagExpiry; body += VarInt.SizeOf(expires - record.TimestampMs); }
        if (record.DeliverAtMs is { } deliverAt) { flags |= RecordBatchCodec.FlagDeliverAt; body += VarInt.SizeOf(deliverAt - record.TimestampMs); }
        if (record.ProducerId is { } producerId) { flags |= RecordBatchCodec.FlagProducer; body += VarInt.SizeOf(producerId) + VarInt.SizeOf(record.Sequence); }
        if (record.Key is { } key) { flags |= RecordBatchCodec.FlagKey; body += VarInt.SizeOf(key.Length) + key.Length; }
        body += VarInt.SizeOf(headerCount);
        for (int h = 0; h < headerCount; h++)
        {
            var header = headers![h];
            ArgumentNullException.ThrowIfNull(header.Name, "record header name");
            int nameBytes = RecordBatchCodec.StrictUtf8.GetByteCount(header.Name);
            body += VarInt.SizeOf(nameBytes) + nameBytes + VarInt.SizeOf(header.Value.Length) + header.Value.Length;
        }
        body += VarInt.SizeOf(record.Payload.Length) + record.Payload.Length;

        long needed = (long)_length + VarInt.SizeOf(body) + body;
        if (needed > Array.MaxLength) throw new InvalidOperationException("The batch is larger than a single buffer can hold.");
        EnsureCapacity((int)needed);

        var span = _buffer.AsSpan(_length);
        int p = VarInt.Write(span, body);
        span[p++] = flags;
        p += VarInt.Write(span[p..], record.TimestampMs - _firstTimestampMs);
        if (record.ExpiresAtMs is { } e) p += VarInt.Write(span[p..], e - record.TimestampMs);
        if (record.DeliverAtMs is { } d) p += VarInt.Write(span[p..], d - record.TimestampMs);
        if (record.ProducerId is { } pid) { p += VarInt.Write(span[p..], pid); p += VarInt.Write(span[p..], record.Sequence); }
        if (record.Key is { } k) p += WriteBytes(span[p..], k.Span);
        p += VarInt.Write(span[p..], headerCount);
        for (int h = 0; h < headerCount; h++)
        {
            var header = headers![h];
            int nameBytes = RecordBatchCodec.StrictUtf8.GetByteCount(header.Name);
            p += VarInt.Write(span[p..], nameBytes);
            p += RecordBatchCodec.StrictUtf8.GetBytes(header.Name, span[p..]);
            p += WriteBytes(span[p..], header.Value.Span);
        }
        p += WriteBytes(span[p..], record.Payload.Span);

        _length += p;
        _maxTimestampMs = Math.Max(_maxTimestampMs, record.TimestampMs);
        Count++;
    }

    /// <summary>
    /// Writes the header and CRC and returns the encoded batch (base offset 0; the log stamps the real one).
    /// </summary>
    /// <exception cref="InvalidOperationException">No record was added.</exception>
    public ReadOnlyMemory<byte> Build()
    {
        if (Count == 0) throw new InvalidOperationException("A batch needs at least one record.");
        var batch = _buffer.AsSpan(0, _length);
        RecordBatchCodec.WriteHeader(batch, 0, Count, _firstTimestampMs, _maxTimestampMs);
        return _buffer.AsMemory(0, _length);
    }

    /// <summary>Encodes <paramref name="records"/> into a new array: convenient for tests and tools, not for hot paths.</summary>
    public static byte[] Encode(IEnumerable<LogRecord> records)
    {
        using var builder = new RecordBatchBuilder();
        foreach (var record in records) builder.Add(record);
        return builder.Build().ToArray();
    }

    /// <summary>Returns the buffer to the pool.</summary>
    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }

    private static int WriteBytes(Span<byte> destination, ReadOnlySpan<byte> value)
    {
        int p = VarInt.Write(destination, value.Length);
        value.CopyTo(destination[p..]);
        return p + value.Length;
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= _buffer.Length) return;
        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Array.MaxLength, Math.Max(needed, (long)_buffer.Length * 2)));
        _buffer.AsSpan(0, _length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }
}
