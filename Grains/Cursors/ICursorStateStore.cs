namespace Granary.Grains.Cursors;

/// <summary>
/// Where cursors keep their state logs (<see cref="Storage.CursorStateLog"/>: a snapshot, then deltas): files under the
/// data directory in embedded mode (<see cref="FileCursorStateStore"/>), a PostgreSQL table in cluster mode
/// (<see cref="PostgresCursorStateStore"/>). Required: every silo setup registers one.
/// </summary>
internal interface ICursorStateStore
{
    /// <summary>Opens the state log of the cursor <paramref name="cursorKey"/>, reading what it holds.</summary>
    Task<ICursorStateLog> OpenAsync(string cursorKey);
}
