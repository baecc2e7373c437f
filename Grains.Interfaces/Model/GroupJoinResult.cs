namespace Granary.Grains;

/// <summary>What a member learns when it joins its group.</summary>
/// <param name="Partitions">The topic's partition count.</param>
[GenerateSerializer, Immutable, Alias("granary.GroupJoinResult")]
public sealed record GroupJoinResult([property: Id(0)] int Partitions);
