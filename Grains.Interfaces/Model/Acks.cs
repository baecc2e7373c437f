namespace Granary.Client;

/// <summary>When a partition confirms an append.</summary>
public enum Acks
{
    /// <summary>Once the topic's <see cref="TopicConfig.MinInSyncReplicas"/> replicas (the leader among them) hold it durably.</summary>
    All = 0,
    /// <summary>Once the leader holds it durably; a failover before the followers copy it can lose it.</summary>
    Leader = 1,
}
