using Granary.Grains.Cursors;
using Granary.Storage;

namespace Granary.Tests.Cursors;

/// <summary>
/// An <see cref="ICursorStateLog"/> in memory that records every save, as <see cref="CursorStateLog"/> behaves: a null
/// delta, or the first save after a failed one, writes a snapshot. Saves can be made to fail or to wait.
/// </summary>
internal sealed class InMemoryCursorStateLog : ICursorStateLog
{
    private bool _snapshotNext;

    public CursorStateLoad Loaded { get; set; } = new();

    public string Location => "memory://cursor";

    /// <summary>Every save begun, in order: a delta, or a snapshot.</summary>
    public List<(CursorStateDelta? Delta, CursorStateSnapshot? Snapshot)> Saves { get; } = [];

    /// <summary>When set, the next save fails with this.</summary>
    public Exception? FailNext { get; set; }

    /// <summary>When set, the next save completes only when this task does.</summary>
    public TaskCompletionSource? HoldNext { get; set; }

    public int Deletes { get; private set; }

    public Task SaveAsync(CursorStateDelta? delta, Func<CursorStateSnapshot> snapshot)
    {
        bool asSnapshot = delta is null || _snapshotNext;
        // A copy: the delta is the caller's, filled anew for its next save.
        Saves.Add(asSnapshot ? (null, snapshot()) : (new CursorStateDelta
        {
            Committed = delta!.Committed, Expired = delta.Expired, DeadLettered = delta.DeadLettered, Skipped = delta.Skipped,
            Offsets = [.. delta.Offsets],
        }, null));
        if (FailNext is { } failure)
        {
            FailNext = null;
            _snapshotNext = true; // the delta is in no file
            return Task.FromException(failure);
        }
        _snapshotNext = false;
        var hold = HoldNext;
        HoldNext = null;
        return hold?.Task ?? Task.CompletedTask;
    }

    public Task DeleteAsync()
    {
        Deletes++;
        Loaded = new CursorStateLoad();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
    }
}
