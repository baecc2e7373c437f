namespace Granary.Client;

/// <summary>Proof that a message is stored: durable per the topic's flush policy (on disk by default).</summary>
/// <param name="Topic">Topic.</param>
/// <param name="Partition">Partition it went to.</param>
/// <param name="Offset">Its offset in that partition.</param>
/// <param name="Timestamp">The broker's timestamp of the message.</param>
public sealed record SendReceipt(string Topic, int Partition, long Offset, DateTimeOffset Timestamp);
