using System.Text;
using Granary.Grains;
using Granary.Records;

namespace Granary.Client;

/// <summary>
/// A message as read from the broker: key, headers, payload, offset and delivery attempt. Consumed messages
/// (<see cref="ReceivedMessage"/>) and dead letters (<see cref="DeadLetter.Message"/>) have this one shape.
/// </summary>
/// <remarks>
/// The message is a view over the bytes the broker sent (its stored record, copied verbatim): <see cref="Payload"/>
/// is a slice of that buffer, not a copy, and <see cref="Key"/> and <see cref="Headers"/> are decoded on first use.
/// The buffer lives as long as any message or payload slice of it is referenced; copy the payload
/// (<c>Payload.ToArray()</c>) only to keep it apart from the rest of the buffer.
/// </remarks>
public class MessageView
{
    private readonly StoredRecord _record;
    private string? _key;
    private IReadOnlyDictionary<string, byte[]>? _headers;

    internal MessageView(string topic, int partition, in StoredRecord record, int attempt)
    {
        Topic = topic;
        Partition = partition;
        _record = record;
        DeliveryAttempt = attempt;
    }

    private static readonly IReadOnlyDictionary<string, byte[]> EmptyHeaders = new Dictionary<string, byte[]>();

    /// <summary>Topic.</summary>
    public string Topic { get; }
    /// <summary>Partition it came from.</summary>
    public int Partition { get; }
    /// <summary>Offset in that partition.</summary>
    public long Offset => _record.Offset;
    /// <summary>The key it was sent with (UTF-8), or null; decoded on first use.</summary>
    public string? Key => _record.Key is { } key ? _key ??= Encoding.UTF8.GetString(key.Span) : null;
    /// <summary>The key's bytes (a slice of the received buffer), or null when it has none.</summary>
    public ReadOnlyMemory<byte>? KeyBytes => _record.Key;
    /// <summary>The body: a slice of the received buffer, not a copy.</summary>
    public ReadOnlyMemory<byte> Payload => _record.Payload;
    /// <summary>Headers it was sent with; decoded on first use.</summary>
    public IReadOnlyDictionary<string, byte[]> Headers => _headers ??= DecodeHeaders();
    /// <summary>When the broker stored it.</summary>
    public DateTimeOffset Timestamp => DateTimeOffset.FromUnixTimeMilliseconds(_record.TimestampMs);
    /// <summary>
    /// 1 on the first delivery; raised each time it is delivered again after a nack, a lease expiry or its member
    /// leaving. A delivery the broker took back to keep the order (<see cref="ReceivedMessage.IsRevoked"/>) does not
    /// count, nor does a prefetched one that the consumer gave back unseen when it was disposed. For a dead letter:
    /// the deliveries before it was dead-lettered (0 when not recorded).
    /// </summary>
    public int DeliveryAttempt { get; }

    /// <summary>When the message expires (its time to live), or null when it never does.</summary>
    public DateTimeOffset? ExpiresAt => _record.ExpiresAtMs is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    /// <summary>The sender's message id (<see cref="OutgoingMessage.MessageId"/>), or null.</summary>
    public string? MessageId => HeaderText(MessageIdName);

    private static readonly byte[] MessageIdName = Encoding.UTF8.GetBytes(GranaryHeaders.MessageId);

    /// <summary>The value of header <paramref name="name"/> as UTF-8 text; null when the message has no such header.</summary>
    public string? HeaderText(string name) => HeaderText(Encoding.UTF8.GetBytes(name));

    private string? HeaderText(ReadOnlySpan<byte> utf8Name) =>
        StoredBatches.TryGetHeader(_record, utf8Name, out var value) ? Encoding.UTF8.GetString(value) : null;

    private IReadOnlyDictionary<string, byte[]> DecodeHeaders()
    {
        if (_record.HeaderCount == 0) return EmptyHeaders;
        var headers = new Dictionary<string, byte[]>(_record.HeaderCount, StringComparer.Ordinal);
        // As before: a repeated name keeps its first value.
        foreach (var header in _record.GetHeaders()) headers.TryAdd(header.Name, header.Value.ToArray());
        return headers;
    }
}
