using Granary.Grains.Hosting.StateFiles;

namespace Granary.Grains.Cursors;

/// <summary>Which topic incarnation (<see cref="TopicConfig.Incarnation"/>) a cursor's saved state belongs to.</summary>
[GenerateSerializer, Alias("granary.CursorIncarnation")]
internal sealed class CursorIncarnation : IRecoverableState
{
    /// <summary>The incarnation; null for a topic created before incarnations existed.</summary>
    [Id(0)] public string? Incarnation { get; set; }

    /// <summary>
    /// Set by the storage (never stored) when this record was damaged with no good copy: which incarnation the cursor's
    /// state belongs to is then unknown, so the cursor is treated as damaged (it starts again from the earliest retained
    /// offset: redelivering rather than skipping, or adopting an earlier topic's position).
    /// </summary>
    public StateFileDamage? Damage { get => _damage; set => _damage = value; }

    [NonSerialized] private StateFileDamage? _damage;
}
