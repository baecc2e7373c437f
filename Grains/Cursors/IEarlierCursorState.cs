namespace Granary.Grains.Cursors;

/// <summary>
/// The cursor's grain state <c>cursor</c> of the earlier format (its whole <see cref="CursorState"/> per save), as
/// <see cref="CursorStatePersistence"/> needs it: imported once into the state log, then cleared. It also carries the
/// damage a state file reports, and that the incarnation check sets.
/// </summary>
internal interface IEarlierCursorState
{
    /// <summary>Whether the grain state holds a record.</summary>
    bool Exists { get; }

    /// <summary>What the grain state holds (an empty state when nothing is stored).</summary>
    CursorState State { get; }

    /// <summary>Removes the grain state.</summary>
    Task ClearAsync();
}
