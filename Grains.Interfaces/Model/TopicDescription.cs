namespace Granary.Grains;

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
}
