namespace Granary.Client;

/// <summary>A topic as it is now.</summary>
/// <param name="Name">Topic name.</param>
/// <param name="Config">Its settings.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="Groups">Consumer groups that read it.</param>
/// <param name="PartitionDetails">Offsets and location of each partition, when asked for.</param>
[GenerateSerializer, Immutable, Alias("granary.TopicDescription")]
public sealed record TopicDescription(
    [property: Id(0)] string Name,
    [property: Id(1)] TopicConfig Config,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] string[] Groups,
    [property: Id(4)] PartitionInfo[] PartitionDetails);

/// <summary>One partition's offsets and the silo that hosts it.</summary>
/// <param name="Partition">Partition number.</param>
/// <param name="StartOffset">First retained offset.</param>
/// <param name="EndOffset">Offset the next message will get.</param>
/// <param name="SizeBytes">Bytes on disk.</param>
/// <param name="Silo">Address of the silo hosting it.</param>
[GenerateSerializer, Immutable, Alias("granary.PartitionInfo")]
public sealed record PartitionInfo(
    [property: Id(0)] int Partition,
    [property: Id(1)] long StartOffset,
    [property: Id(2)] long EndOffset,
    [property: Id(3)] long SizeBytes,
    [property: Id(4)] string Silo)
{
    /// <summary>Replicated partitions: the nodes holding every committed record now, the leader first; null when not replicated.</summary>
    [Id(5)] public string[]? InSyncReplicas { get; init; }

    /// <summary>
    /// Offsets of this partition whose records are lost (a missing segment file, damaged data inside confirmed
    /// records), as found by its log since it was opened; empty when healthy. Consumers skip them and count them as skipped.
    /// </summary>
    [Id(6)] public PartitionGap[] Gaps { get; init; } = [];
}

/// <summary>Offsets [<paramref name="StartOffset"/>, <paramref name="EndOffset"/>) of a partition whose records are lost.</summary>
/// <param name="StartOffset">First lost offset.</param>
/// <param name="EndOffset">First offset after the gap.</param>
/// <param name="Reason">What the storage engine found (which file is missing or damaged).</param>
[GenerateSerializer, Immutable, Alias("granary.PartitionGap")]
public sealed record PartitionGap([property: Id(0)] long StartOffset, [property: Id(1)] long EndOffset, [property: Id(2)] string Reason);
