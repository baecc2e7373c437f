namespace Granary.Records;

/// <summary>A record to encode into a batch with <see cref="RecordBatchBuilder"/>. Offsets are assigned by the log.</summary>
public readonly record struct LogRecord
{
    /// <summary>Creates a record with the given payload.</summary>
    public LogRecord(ReadOnlyMemory<byte> payload) => Payload = payload;

    /// <summary>Message body; may be empty.</summary>
    public ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>Routing and ordering key; null when the record has none (an empty key is a key).</summary>
    public ReadOnlyMemory<byte>? Key { get; init; }

    /// <summary>Headers in order; null or empty for none.</summary>
    public IReadOnlyList<RecordHeader>? Headers { get; init; }

    /// <summary>Milliseconds since the Unix epoch.</summary>
    public long TimestampMs { get; init; }

    /// <summary>When the record expires (Unix milliseconds), if it has a TTL.</summary>
    public long? ExpiresAtMs { get; init; }

    /// <summary>Not to be delivered before this time (Unix milliseconds), if delayed.</summary>
    public long? DeliverAtMs { get; init; }

    /// <summary>Id of the idempotent producer that wrote the record, if any.</summary>
    public long? ProducerId { get; init; }

    /// <summary>The producer's sequence number of this record on its partition; meaningful with <see cref="ProducerId"/>.</summary>
    public int Sequence { get; init; }
}
