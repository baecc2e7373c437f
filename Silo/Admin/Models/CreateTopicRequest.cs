using System.Text.Json.Serialization;
using Granary.Client;
using Granary.Grains;

namespace Granary.Silo.Admin.Models;

/// <summary>A topic to create; settings left out take their defaults.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed class CreateTopicRequest
{
    /// <summary>Topic name, <c>[a-zA-Z0-9._-]{1,200}</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Partition count; default 1.</summary>
    public int? Partitions { get; init; }

    /// <summary>Largest message; default 1 MiB.</summary>
    public int? MaxMessageBytes { get; init; }

    /// <summary>Retention by age; default none.</summary>
    public TimeSpan? RetentionTime { get; init; }

    /// <summary>Retention by size per partition; default none.</summary>
    public long? RetentionBytes { get; init; }

    /// <summary>Default time to live; default none.</summary>
    public TimeSpan? DefaultTimeToLive { get; init; }

    /// <summary>What happens to expired messages; default dead-lettered.</summary>
    public ExpiredMessageAction? ExpiredMessages { get; init; }

    /// <summary>Overflow policy; default DropOldest.</summary>
    public OverflowPolicy? Overflow { get; init; }

    /// <summary>Dedup window; default off.</summary>
    public TimeSpan? DedupWindow { get; init; }

    /// <summary>Replication factor; default the silo's (3 in cluster mode, 1 embedded).</summary>
    public int? ReplicationFactor { get; init; }

    /// <summary>Minimum in-sync replicas; default 2 when replicated.</summary>
    public int? MinInSyncReplicas { get; init; }

    internal TopicOptions ToOptions()
    {
        var defaults = new TopicOptions();
        return new TopicOptions
        {
            Partitions = Partitions ?? defaults.Partitions,
            MaxMessageBytes = MaxMessageBytes ?? defaults.MaxMessageBytes,
            RetentionTime = RetentionTime,
            RetentionBytes = RetentionBytes,
            DefaultTimeToLive = DefaultTimeToLive,
            ExpiredMessages = ExpiredMessages ?? defaults.ExpiredMessages,
            Overflow = Overflow ?? defaults.Overflow,
            DedupWindow = DedupWindow,
            ReplicationFactor = ReplicationFactor,
            MinInSyncReplicas = MinInSyncReplicas,
        };
    }
}
