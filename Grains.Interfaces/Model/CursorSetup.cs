using Granary.Client;

namespace Granary.Grains;

/// <summary>What a cursor needs from its group: where to start, how to deliver, and (Ordered) which member owns it.</summary>
/// <param name="StartOffset">Where the cursor starts when it has no state; null: the earliest retained offset.</param>
/// <param name="Settings">The group's settings.</param>
/// <param name="Owner">Under <see cref="DeliveryMode.Ordered"/>, the member the partition is assigned to (null: none).</param>
[GenerateSerializer, Immutable, Alias("granary.CursorSetup")]
public sealed record CursorSetup([property: Id(0)] long? StartOffset, [property: Id(1)] GroupSettings Settings, [property: Id(2)] string? Owner);
