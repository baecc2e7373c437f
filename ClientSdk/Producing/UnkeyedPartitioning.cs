namespace Granary.Client;

/// <summary>How a producer spreads messages that have neither a key, a message id nor an explicit partition.</summary>
public enum UnkeyedPartitioning
{
    /// <summary>
    /// Kafka's sticky partitioner (KIP-794, its default since 3.3): every such message goes to one partition until
    /// <see cref="ProducerOptions.StickyPartitionBytes"/> bytes went there, then to the next partition. Batches fill
    /// with messages of one partition instead of being cut into one small batch per partition; over many messages the
    /// partitions get equal shares. The default.
    /// </summary>
    Sticky = 0,

    /// <summary>Each message to the next partition in turn: the most even spread, the smallest batches.</summary>
    RoundRobin = 1,
}
