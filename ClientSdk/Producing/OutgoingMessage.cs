namespace Granary.Client;

/// <summary>A message to send.</summary>
public sealed class OutgoingMessage
{
    /// <summary>Creates a message with the given payload (not copied: do not change it until the send completes).</summary>
    public OutgoingMessage(ReadOnlyMemory<byte> payload) => Payload = payload;

    /// <summary>The body.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>
    /// Routing and ordering key: messages with the same key go to the same partition and are consumed in the order
    /// they were confirmed. Null: round-robin over the partitions.
    /// </summary>
    public string? Key { get; init; }

    /// <summary>Headers, passed through unchanged.</summary>
    public IReadOnlyDictionary<string, byte[]>? Headers { get; init; }

    /// <summary>Send to this partition, whatever the key. Null: choose by key.</summary>
    public int? Partition { get; init; }
}
