namespace Granary.Grains.Cursors;

/// <summary>The cursor's Orleans grain state <c>cursor</c> seen as <see cref="IEarlierCursorState"/>.</summary>
internal sealed class EarlierCursorGrainState(IPersistentState<CursorState> state) : IEarlierCursorState
{
    public bool Exists => state.RecordExists;

    public CursorState State => state.State;

    public Task ClearAsync() => state.ClearStateAsync();
}
