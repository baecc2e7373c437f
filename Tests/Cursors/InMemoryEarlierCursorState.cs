using Granary.Grains.Cursors;

namespace Granary.Tests.Cursors;

/// <summary>The cursor's grain state of the earlier format, in memory, counting clears.</summary>
internal sealed class InMemoryEarlierCursorState : IEarlierCursorState
{
    public bool Exists { get; set; }

    public CursorState State { get; set; } = new();

    public int Clears { get; private set; }

    public Task ClearAsync()
    {
        Clears++;
        Exists = false;
        State = new CursorState();
        return Task.CompletedTask;
    }
}
