namespace Granary.Client;

/// <summary>Proof that a message is stored: durable per the topic's flush policy (on disk by default).</summary>
/// <param name="Topic">Topic.</param>
/// <param name="Partition">Partition it went to.</param>
/// <param name="Offset">Its offset in that partition (for a duplicate, the offset of the copy stored first).</param>
/// <param name="Timestamp">The broker's timestamp of the message.</param>
public sealed record SendReceipt(string Topic, int Partition, long Offset, DateTimeOffset Timestamp)
{
    /// <summary>
    /// True when the partition had stored a message with the same <see cref="OutgoingMessage.MessageId"/> within the
    /// topic's dedup window and did not store this one: <see cref="Offset"/> is that copy's.
    /// </summary>
    public bool IsDuplicate { get; init; }
}
