namespace Granary.Client;

/// <summary>A message to send.</summary>
public sealed class OutgoingMessage
{
    /// <summary>Creates a message with the given payload (not copied: do not change it until the send completes).</summary>
    public OutgoingMessage(ReadOnlyMemory<byte> payload) => Payload = payload;

    /// <summary>Longest <see cref="TimeToLive"/> and <see cref="Delay"/>, and furthest <see cref="DeliverAt"/> from now: 100 years.</summary>
    public static readonly TimeSpan MaxTimeToLiveOrDelay = TimeSpan.FromDays(36_525);

    /// <summary>Most <see cref="Headers"/> on one message: 10,000.</summary>
    public const int MaxHeaders = 10_000;

    /// <summary>The body.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>
    /// Routing and ordering key: messages with the same key go to the same partition and are consumed in the order
    /// they were confirmed. Null: round-robin over the partitions.
    /// </summary>
    public string? Key { get; init; }

    /// <summary>Headers, passed through unchanged; no value may be null (an empty array for none); at most <see cref="MaxHeaders"/>.</summary>
    public IReadOnlyDictionary<string, byte[]>? Headers { get; init; }

    /// <summary>Send to this partition, whatever the key. Null: choose by key.</summary>
    public int? Partition { get; init; }

    /// <summary>
    /// Time to live from the broker's timestamp; null for the topic's default. An expired message is never delivered.
    /// Positive, at most <see cref="MaxTimeToLiveOrDelay"/>.
    /// </summary>
    public TimeSpan? TimeToLive { get; init; }

    /// <summary>
    /// Deliver to no group before this time; null to deliver at once. At most <see cref="MaxTimeToLiveOrDelay"/> from
    /// now. See also <see cref="Delay"/>.
    /// </summary>
    public DateTimeOffset? DeliverAt { get; init; }

    /// <summary>
    /// Deliver to no group before this long from the send (measured by the sender's clock); null for none. At most
    /// <see cref="MaxTimeToLiveOrDelay"/>.
    /// </summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>
    /// An id for broker-side deduplication: within the topic's <c>DedupWindow</c> a second message with the same id
    /// is not stored (the send returns the first one's offset). Messages without a key are routed by it, so that a
    /// repeat lands on the same partition. Consumers see it as <see cref="MessageView.MessageId"/>.
    /// </summary>
    public string? MessageId { get; init; }
}
