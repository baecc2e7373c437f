namespace Granary.Grains.Partitions;

/// <summary>How partitions keep idempotent-producer state.</summary>
public sealed class ProducerStateOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Granary:Producers";

    /// <summary>
    /// A producer not heard from for this long is forgotten (a retry after that is stored again); also how far back a
    /// partition scans its log when its producer-state snapshot is missing or damaged. Default 1 day.
    /// </summary>
    public TimeSpan ProducerStateRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How often an active partition saves its producer-state snapshot when it changed. Default 10 s.</summary>
    public TimeSpan SnapshotInterval { get; set; } = TimeSpan.FromSeconds(10);
}
