using System.IO.Hashing;
using Granary.Records;

namespace Granary.Grains.Cursors;

/// <summary>
/// A message the cursor holds, as a compact value: what the delivery rules need (offset, timestamps, key hash) and
/// where its encoded record sits in the fetched buffer (<see cref="Batch"/> is a slice of that buffer, never a copy).
/// Key, headers and payload are never decoded here: a pull copies the record's bytes as they are, and only a dead
/// letter (a cold path) decodes it.
/// </summary>
/// <remarks>
/// When the fetched buffer is pooled, <see cref="Owner"/> counts the messages over it: whoever keeps such a message
/// (the ready set, a pull's taken list) holds a reference and releases it when the message leaves, after which
/// <see cref="Batch"/> must not be read (the array may be another fetch's by then). A message kept anywhere else is
/// made independent first (<see cref="Compact"/>).
/// </remarks>
internal readonly struct BufferedMessage
{
    private const long Never = long.MaxValue;
    private const long NotDelayed = long.MinValue;

    private BufferedMessage(ReadOnlyMemory<byte> batch, FetchedBuffer? owner, int recordStart, int recordLength, long offset,
        long timestampMs, long expiresAtMs, long deliverAtMs, ulong keyHash, bool hasKey, int payloadLength)
    {
        PayloadLength = payloadLength;
        Owner = owner;
        Batch = batch;
        RecordStart = recordStart;
        RecordLength = recordLength;
        Offset = offset;
        TimestampMs = timestampMs;
        ExpiresAtMs = expiresAtMs;
        DeliverAtMs = deliverAtMs;
        KeyHash = keyHash;
        HasKey = hasKey;
    }

    /// <summary>The whole source batch (a slice of the fetched buffer), whose header a pull copies.</summary>
    public ReadOnlyMemory<byte> Batch { get; }
    /// <summary>The pooled buffer <see cref="Batch"/> is in, whose references count the messages kept over it; null when the bytes are the message's own or not pooled.</summary>
    public FetchedBuffer? Owner { get; }
    /// <summary>Where the record's encoding (length prefix included) starts in <see cref="Batch"/>.</summary>
    public int RecordStart { get; }
    /// <summary>Length of the record's encoding.</summary>
    public int RecordLength { get; }
    public long Offset { get; }
    public long TimestampMs { get; }
    /// <summary>Unix ms; <see cref="long.MaxValue"/> when it never expires.</summary>
    public long ExpiresAtMs { get; }
    /// <summary>Unix ms; <see cref="long.MinValue"/> when not delayed.</summary>
    public long DeliverAtMs { get; }
    /// <summary>
    /// 64-bit hash of the key (KeyShared holds and nack-delay blocks are kept per hash, not per key bytes). Two
    /// different keys with the same hash only share a hold: their messages are then kept in order together and go to
    /// one member at a time, which every rule allows; no message is lost or delivered twice by it.
    /// </summary>
    public ulong KeyHash { get; }
    public bool HasKey { get; }
    /// <summary>Payload size, for the delivered-bytes metric.</summary>
    public int PayloadLength { get; }

    public bool Expires => ExpiresAtMs != Never;
    public bool IsDelayed => DeliverAtMs != NotDelayed;
    public bool IsExpiredAt(long nowMs) => ExpiresAtMs <= nowMs;

    /// <summary>The encoded record, as a pull copies it.</summary>
    public ReadOnlySpan<byte> Record => Batch.Span.Slice(RecordStart, RecordLength);

    /// <summary>The message of a fetched record; <paramref name="owner"/> is the pooled buffer the record is in, if any (no reference is taken here).</summary>
    public static BufferedMessage From(in RangedRecord ranged, FetchedBuffer? owner = null)
    {
        var record = ranged.Record;
        bool hasKey = record.Key is not null;
        ulong keyHash = record.Key is { } key ? XxHash64.HashToUInt64(key.Span) : 0;
        return new BufferedMessage(ranged.Batch, owner, ranged.Start, ranged.Length, record.Offset, record.TimestampMs,
            record.ExpiresAtMs ?? Never, record.DeliverAtMs ?? NotDelayed, keyHash, hasKey, record.Payload.Length);
    }

    /// <summary>
    /// This message over a buffer of its own (its batch's header and its record), unless it is so already. A message
    /// that stays while the rest of its fetch moved on (delayed, or behind a key another member holds) would
    /// otherwise keep the whole fetched buffer (up to a megabyte) alive for one record. The copy is never over a pooled
    /// buffer: it may be kept anywhere, and the original's reference (if any) stays to be released by its holder.
    /// </summary>
    public BufferedMessage Compact()
    {
        var source = Batch.Span;
        int header = RecordBatchCodec.HeaderSizeOf(source);
        if (Owner is null && Batch.Length == header + RecordLength) return this;
        var own = new byte[header + RecordLength];
        source[..header].CopyTo(own);
        Record.CopyTo(own.AsSpan(header));
        return new BufferedMessage(own, null, header, RecordLength, Offset, TimestampMs, ExpiresAtMs, DeliverAtMs, KeyHash, HasKey, PayloadLength);
    }

    /// <summary>Decodes the record (into a copy): for dead letters, a cold path.</summary>
    public StoredRecord Decode() => StoredBatches.DecodeCopy(Batch.Span, RecordStart, RecordLength, Offset, TimestampMs);
}
