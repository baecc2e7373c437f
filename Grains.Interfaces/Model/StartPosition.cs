namespace Granary.Grains;

/// <summary>Where a new consumer group starts reading.</summary>
public enum StartPosition
{
    /// <summary>At the earliest retained message of each partition.</summary>
    Earliest = 0,
    /// <summary>At the end of each partition when the group is created: only later messages.</summary>
    Latest = 1,
}

/// <summary>What a member learns when it joins its group.</summary>
/// <param name="Partitions">The topic's partition count.</param>
[GenerateSerializer, Immutable, Alias("granary.GroupJoinResult")]
public sealed record GroupJoinResult([property: Id(0)] int Partitions);
