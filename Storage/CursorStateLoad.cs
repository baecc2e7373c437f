namespace Granary.Storage;

/// <summary>
/// What <see cref="CursorStateLog.Open"/> read: the snapshot and the deltas after it (replayed in order they give the
/// saved state), and what was wrong with the file, if anything.
/// </summary>
internal sealed record CursorStateLoad
{
    /// <summary>The first frame; null when the cursor has no saved state (or it was unusable: see <see cref="Damage"/>).</summary>
    public CursorStateSnapshot? Snapshot { get; init; }

    /// <summary>The deltas after the snapshot, in the order they were written.</summary>
    public List<CursorStateDelta> Deltas { get; init; } = [];

    /// <summary>
    /// Set when the file exists but its snapshot cannot be used (failed checksum, unreadable, another cursor's): nothing
    /// of the saved state is known.
    /// </summary>
    public string? Damage { get; init; }

    /// <summary>
    /// Set when a frame after the snapshot was damaged (failed checksum or unreadable, with more bytes after it): the
    /// state is that of the frames before it, the later ones are dropped (their acks are lost: those messages are
    /// delivered again), and a copy of the file is kept at <see cref="DamagedCopy"/>.
    /// </summary>
    public string? DamagedFrame { get; init; }

    /// <summary>Where the damaged file was copied before it was cut back to its good frames.</summary>
    public string? DamagedCopy { get; init; }

    /// <summary>Bytes of a last frame cut short or failing its checksum (an append a crash interrupted, never confirmed), cut off.</summary>
    public long TornTailBytes { get; init; }

    /// <summary>Where the good frames end.</summary>
    public long ValidBytes { get; init; }

    /// <summary>The size of the snapshot frame.</summary>
    public long SnapshotBytes { get; init; }
}
