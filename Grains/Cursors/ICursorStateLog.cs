using Granary.Storage;

namespace Granary.Grains.Cursors;

/// <summary>One cursor's state log, open for one activation (see <see cref="ICursorStateStore"/>).</summary>
internal interface ICursorStateLog : IDisposable
{
    /// <summary>What the log held when it was opened (empty after <see cref="DeleteAsync"/>).</summary>
    CursorStateLoad Loaded { get; }

    /// <summary>Where the log is, for damage reports.</summary>
    string Location { get; }

    /// <summary>
    /// Saves durably what changed: <paramref name="delta"/> appended, or a snapshot (from <paramref name="snapshot"/>,
    /// called before the first await, on the caller's turn) when the delta is null (a reset) or the log decides to compact.
    /// The delta too is read before the first await and not kept: the caller fills it anew for its next save.
    /// </summary>
    Task SaveAsync(CursorStateDelta? delta, Func<CursorStateSnapshot> snapshot);

    /// <summary>Removes the log.</summary>
    Task DeleteAsync();
}
