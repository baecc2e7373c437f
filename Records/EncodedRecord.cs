namespace Granary.Records;

/// <summary>
/// One record of an encoded batch as <see cref="RecordBatchCodec.TryReadRecord"/> found it: its fields as stored
/// (deltas, not absolute times) and spans over the batch's bytes. For checking and indexing a batch without
/// allocating; <see cref="RecordBatch"/> gives decoded records.
/// </summary>
public readonly ref struct EncodedRecord
{
    internal EncodedRecord(ReadOnlySpan<byte> encoded, byte flags, long timestampDelta, long expiresDelta, long deliverDelta,
        long producerId, long sequence, ReadOnlySpan<byte> key, ReadOnlySpan<byte> headers, int headerCount, ReadOnlySpan<byte> payload)
    {
        Encoded = encoded;
        Flags = flags;
        TimestampDelta = timestampDelta;
        ExpiresDelta = expiresDelta;
        DeliverDelta = deliverDelta;
        ProducerId = producerId;
        Sequence = sequence;
        Key = key;
        RawHeaders = headers;
        HeaderCount = headerCount;
        Payload = payload;
    }

    /// <summary>The whole record, its length prefix included.</summary>
    public ReadOnlySpan<byte> Encoded { get; }
    /// <summary>The flags byte (see <see cref="RecordBatchCodec"/>).</summary>
    public byte Flags { get; }
    /// <summary>Timestamp minus the batch's first timestamp.</summary>
    public long TimestampDelta { get; }
    /// <summary>True when the record has its own expiry.</summary>
    public bool HasExpiry => (Flags & RecordBatchCodec.FlagExpiry) != 0;
    /// <summary>Expiry minus timestamp; meaningful with <see cref="HasExpiry"/>.</summary>
    public long ExpiresDelta { get; }
    /// <summary>True when the record has a deliver-at time.</summary>
    public bool HasDeliverAt => (Flags & RecordBatchCodec.FlagDeliverAt) != 0;
    /// <summary>Deliver-at minus timestamp; meaningful with <see cref="HasDeliverAt"/>.</summary>
    public long DeliverDelta { get; }
    /// <summary>True when the record carries a producer id and sequence.</summary>
    public bool HasProducer => (Flags & RecordBatchCodec.FlagProducer) != 0;
    /// <summary>The producer id as stored (any 64-bit value); meaningful with <see cref="HasProducer"/>.</summary>
    public long ProducerId { get; }
    /// <summary>The sequence as stored (a varint, so possibly outside int's range in a forged record).</summary>
    public long Sequence { get; }
    /// <summary>True when the record has a key (possibly empty).</summary>
    public bool HasKey => (Flags & RecordBatchCodec.FlagKey) != 0;
    /// <summary>The key bytes; empty when none.</summary>
    public ReadOnlySpan<byte> Key { get; }
    /// <summary>The encoded headers; walk them with <see cref="RecordHeaderReader"/>.</summary>
    public ReadOnlySpan<byte> RawHeaders { get; }
    /// <summary>Number of headers.</summary>
    public int HeaderCount { get; }
    /// <summary>The payload bytes.</summary>
    public ReadOnlySpan<byte> Payload { get; }
}

/// <summary>Walks encoded headers (<see cref="EncodedRecord.RawHeaders"/> of a record that decoded) without allocating.</summary>
public ref struct RecordHeaderReader
{
    private readonly ReadOnlySpan<byte> _headers;
    private int _position;

    /// <summary>Reads <paramref name="headers"/>, encoded as in <see cref="RecordBatchCodec"/>.</summary>
    public RecordHeaderReader(ReadOnlySpan<byte> headers) => _headers = headers;

    /// <summary>The UTF-8 name of the current header.</summary>
    public ReadOnlySpan<byte> Name { get; private set; }
    /// <summary>The value of the current header.</summary>
    public ReadOnlySpan<byte> Value { get; private set; }

    /// <summary>Moves to the next header; false after the last (or at bytes that do not decode).</summary>
    public bool MoveNext()
    {
        if (_position >= _headers.Length) return false;
        int p = _position;
        if (!RecordBatchCodec.TrySkipBytes(_headers, ref p, out var name) || !RecordBatchCodec.TrySkipBytes(_headers, ref p, out var value)) return false;
        Name = name;
        Value = value;
        _position = p;
        return true;
    }
}
