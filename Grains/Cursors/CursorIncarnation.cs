namespace Granary.Grains.Cursors;

/// <summary>Which topic incarnation (<see cref="TopicConfig.Incarnation"/>) a cursor's saved state belongs to.</summary>
[GenerateSerializer, Alias("granary.CursorIncarnation")]
internal sealed class CursorIncarnation
{
    /// <summary>The incarnation; null for a topic created before incarnations existed.</summary>
    [Id(0)] public string? Incarnation { get; set; }
}
