namespace Granary.Records;

/// <summary>
/// One record decoded from a stored batch. Key, headers and payload are slices of the batch's memory, not copies:
/// they are valid only as long as that memory is (for a storage read result, until it is disposed).
/// </summary>
public readonly struct StoredRecord
{
    internal StoredRecord(long offset, long timestampMs, long? expiresAtMs, long? deliverAtMs, long? producerId, int sequence,
        ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte> headers, int headerCount, ReadOnlyMemory<byte> payload, ReadOnlyMemory<byte> encoded)
    {
        Encoded = encoded;
        Offset = offset;
        TimestampMs = timestampMs;
        ExpiresAtMs = expiresAtMs;
        DeliverAtMs = deliverAtMs;
        ProducerId = producerId;
        Sequence = sequence;
        Key = key;
        RawHeaders = headers;
        HeaderCount = headerCount;
        Payload = payload;
    }

    /// <summary>Offset of the record in its partition.</summary>
    public long Offset { get; }
    /// <summary>Milliseconds since the Unix epoch.</summary>
    public long TimestampMs { get; }
    /// <summary>Expiry time (Unix milliseconds), if the record has a TTL: its own, else its batch's default.</summary>
    public long? ExpiresAtMs { get; }
    /// <summary>Earliest delivery time (Unix milliseconds), if delayed.</summary>
    public long? DeliverAtMs { get; }
    /// <summary>Idempotent producer id, if any.</summary>
    public long? ProducerId { get; }
    /// <summary>Producer sequence number; meaningful with <see cref="ProducerId"/>.</summary>
    public int Sequence { get; }
    /// <summary>The key, or null when the record has none.</summary>
    public ReadOnlyMemory<byte>? Key { get; }
    /// <summary>The payload.</summary>
    public ReadOnlyMemory<byte> Payload { get; }
    /// <summary>Number of headers.</summary>
    public int HeaderCount { get; }
    /// <summary>Encoded headers (see <see cref="RecordBatchCodec"/>); decode with <see cref="GetHeaders"/>.</summary>
    public ReadOnlyMemory<byte> RawHeaders { get; }

    /// <summary>
    /// The record as encoded in its batch, its length prefix included: copying these bytes verbatim into another batch
    /// (after a header of the same format) carries the record over unchanged. Its timestamp, expiry and deliver-at are
    /// deltas from the batch's first timestamp, so the target batch must keep that timestamp.
    /// </summary>
    public ReadOnlyMemory<byte> Encoded { get; }

    /// <summary>Decodes the headers into a new list (allocates).</summary>
    public List<RecordHeader> GetHeaders()
    {
        var headers = new List<RecordHeader>(HeaderCount);
        var span = RawHeaders.Span;
        int p = 0;
        for (int i = 0; i < HeaderCount; i++)
        {
            VarInt.TryRead(span, ref p, out long nameLength);
            string name = RecordBatchCodec.StrictUtf8.GetString(span.Slice(p, (int)nameLength));
            p += (int)nameLength;
            VarInt.TryRead(span, ref p, out long valueLength);
            headers.Add(new RecordHeader(name, RawHeaders.Slice(p, (int)valueLength)));
            p += (int)valueLength;
        }
        return headers;
    }
}
