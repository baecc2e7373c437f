namespace Granary.Grains;

/// <summary>What a member learns from a heartbeat.</summary>
/// <param name="IsMember">False when the group no longer knows the member: it must join again.</param>
/// <param name="Partitions">The topic's partition count now (partitions can be added to a live topic).</param>
[GenerateSerializer, Immutable, Alias("granary.HeartbeatResult")]
public sealed record HeartbeatResult([property: Id(0)] bool IsMember, [property: Id(1)] int Partitions);
