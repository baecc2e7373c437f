namespace Granary.Client;

/// <summary>How a consumer group hands a partition's messages to its members.</summary>
public enum DeliveryMode
{
    /// <summary>Any member gets any message: the most parallel, no order between members.</summary>
    Shared = 0,
    /// <summary>
    /// Each partition is assigned to one member at a time; joins, leaves and missed heartbeats rebalance. A message
    /// given back (nack, expired lease) is delivered again before anything after it on that partition.
    /// </summary>
    Ordered = 1,
    /// <summary>
    /// Many members share a partition, but all messages of one key go to one member at a time, in order. Messages
    /// without a key are shared freely.
    /// </summary>
    KeyShared = 2,
}
