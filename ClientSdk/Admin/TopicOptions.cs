namespace Granary.Client;

/// <summary>Settings of a new topic.</summary>
public sealed class TopicOptions
{
    /// <summary>Number of partitions (order holds per partition, consumers scale with them). Default 1.</summary>
    public int Partitions { get; set; } = 1;

    /// <summary>Largest message (payload + key + headers) in bytes. Default 1 MiB.</summary>
    public int MaxMessageBytes { get; set; } = 1 << 20;

    /// <summary>Keep messages at least this long; older log segments are deleted. Default: forever.</summary>
    public TimeSpan? RetentionTime { get; set; }

    /// <summary>Delete the oldest log segments while a partition is larger than this. Default: no limit.</summary>
    public long? RetentionBytes { get; set; }
}
