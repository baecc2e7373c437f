using Granary.Grains.Cursors;
using Granary.Grains.Hosting.StateFiles;
using Granary.Storage;
using Granary.Tests.DeliveryRules;
using Microsoft.Extensions.Logging.Abstractions;

namespace Granary.Tests.Cursors;

/// <summary>
/// <see cref="CursorStatePersistence"/> on a fake clock and an in-memory state log: how saves are scheduled, retried
/// and awaited by seeks, the import of the earlier grain state, and the reset of a cursor whose snapshot is damaged.
/// </summary>
public sealed class CursorStatePersistenceTests : IDisposable
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(10);

    private readonly DeliveryHarness _h = new();
    private readonly InMemoryCursorStateLog _log = new();
    private readonly InMemoryEarlierCursorState _earlier = new();
    private readonly StateDamageLog _damage;
    private readonly CursorStatePersistence _persistence;
    private long _earliest;
    private int _afterSaves;

    public CursorStatePersistenceTests()
    {
        _damage = new StateDamageLog(NullLogger<StateDamageLog>.Instance, _h.Clock);
        _persistence = new CursorStatePersistence(_log, _earlier, _h.State, () => Task.FromResult(_earliest),
            () => { _afterSaves++; return Task.CompletedTask; }, _damage, _h.Clock, NullLogger.Instance, "orders", "billing", 0);
    }

    public void Dispose() => _persistence.Close();

    [Fact]
    public async Task ChangesWithinTheSaveInterval_AreFoldedIntoOneSave()
    {
        _h.Append(10);
        var leases = _h.Pull("m");
        foreach (var lease in leases)
        {
            _h.State.Ack("m", [lease.Ref]);
            _persistence.MarkDirty();
        }
        _h.Clock.Advance(CursorStatePersistence.SaveInterval - TimeSpan.FromMilliseconds(1));
        Assert.Empty(_log.Saves);

        _h.Clock.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.UntilAsync(() => _afterSaves == 1);
        var (delta, snapshot) = Assert.Single(_log.Saves);
        Assert.Null(snapshot);
        Assert.Equal(10, delta!.Committed);
        Assert.False(_persistence.IsDirty);

        // Nothing changed since: no more saves.
        _h.Clock.Advance(TimeSpan.FromSeconds(5));
        await Task.Yield();
        Assert.Single(_log.Saves);
    }

    [Fact]
    public async Task AFailedSave_IsRetriedWithEverything_OnTheNextChange()
    {
        _h.Append(10);
        var leases = _h.Pull("m");
        _h.State.Ack("m", [.. leases.Take(5).Select(l => l.Ref)]);
        _log.FailNext = new IOException("disk full");
        _persistence.MarkDirty();
        _h.Clock.Advance(CursorStatePersistence.SaveInterval);
        await Eventually.UntilAsync(() => _log.Saves.Count == 1 && _persistence.IsDirty);
        Assert.Equal(0, _afterSaves);

        // Not retried on its own (the next change retries) ...
        _h.Clock.Advance(TimeSpan.FromSeconds(5));
        await Task.Yield();
        Assert.Single(_log.Saves);

        // ... and then with everything: the failed save's acks too.
        _h.State.Ack("m", [leases[5].Ref]);
        _persistence.MarkDirty();
        await Eventually.UntilAsync(() => { _h.Clock.Advance(Step); return _afterSaves == 1; });
        Assert.Equal(2, _log.Saves.Count);
        var retried = _log.Saves[1].Snapshot!;
        Assert.Equal(6, retried.Committed);
        var replayed = new DeliveryHarness();
        replayed.State.Restore(retried);
        Assert.Equal(6, replayed.State.Committed);
    }

    [Fact]
    public async Task ASeek_IsAnsweredOnlyAfterASaveThatStartedAfterIt()
    {
        _h.Append(10);
        var leases = _h.Pull("m");
        _h.State.Ack("m", [leases[0].Ref]);
        var firstHeld = new TaskCompletionSource();
        _log.HoldNext = firstHeld;
        _persistence.MarkDirty();
        _h.Clock.Advance(CursorStatePersistence.SaveInterval);
        Assert.Single(_log.Saves); // the first save runs, and waits

        _h.State.Seek(7);
        _persistence.MarkDirty();
        var seekSaved = _persistence.SavedAfterNowAsync();
        firstHeld.SetResult();
        await Eventually.UntilAsync(() => _afterSaves == 1);
        Assert.False(seekSaved.IsCompleted); // that save started before the seek

        await Eventually.UntilAsync(() => { _h.Clock.Advance(Step); return seekSaved.IsCompleted; });
        await seekSaved;
        Assert.Equal(2, _log.Saves.Count);
        Assert.Equal(7, _log.Saves[1].Snapshot!.Committed);
    }

    [Fact]
    public async Task ASeekWaitingForAFailedSave_Fails()
    {
        _h.State.Seek(3);
        _persistence.MarkDirty();
        var seekSaved = _persistence.SavedAfterNowAsync();
        _log.FailNext = new IOException("disk full");
        _h.Clock.Advance(CursorStatePersistence.SaveInterval);
        await Assert.ThrowsAsync<IOException>(() => seekSaved);
    }

    [Fact]
    public async Task StateOfTheEarlierFormat_IsImportedOnce_AndCleared()
    {
        _earlier.Exists = true;
        _earlier.State = new CursorState { CommittedOffset = 3, AckedAbove = [7, 5, 1, 6], Attempts = { [4] = 2 }, Expired = 2 };

        await _persistence.LoadAsync();
        var (delta, imported) = Assert.Single(_log.Saves);
        Assert.Null(delta);
        Assert.Equal(3, imported!.Committed);
        Assert.Equal([(5L, 8L)], imported.Acked);
        Assert.Equal(2, imported.Attempts[4]);
        Assert.Equal(2, imported.Expired);
        Assert.Equal(1, _earlier.Clears);
        Assert.False(_earlier.Exists);
        Assert.True(_persistence.TryRestore());
        Assert.Equal(3, _h.State.Committed);
        Assert.Equal(3, _h.State.AckedCount);
        Assert.False(_persistence.TryRestore()); // once

        // The next activation finds the log, and nothing left to import.
        using var reopened = new InMemoryCursorStateLog { Loaded = new CursorStateLoad { Snapshot = imported } };
        var next = new DeliveryHarness();
        var again = new CursorStatePersistence(reopened, _earlier, next.State, () => Task.FromResult(0L),
            () => Task.CompletedTask, _damage, next.Clock, NullLogger.Instance, "orders", "billing", 0);
        await again.LoadAsync();
        Assert.Empty(reopened.Saves);
        Assert.Equal(1, _earlier.Clears);
        Assert.True(again.TryRestore());
        Assert.Equal(3, next.State.Committed);
    }

    [Fact]
    public async Task ADamagedSnapshot_ResetsTheCursorToTheEarliestOffset()
    {
        _earliest = 42;
        _log.Loaded = new CursorStateLoad { Damage = "the snapshot fails its checksum" };

        await _persistence.LoadAsync();
        var (delta, reset) = Assert.Single(_log.Saves);
        Assert.Null(delta);
        Assert.Equal(42, reset!.Committed);
        Assert.Empty(reset.Acked);
        var report = Assert.Single(_damage.Events);
        Assert.Equal(StateDamageAction.Reset, report.Action);
        Assert.Equal(_log.Location, report.File);
        Assert.True(_persistence.TryRestore());
        Assert.Equal(42, _h.State.Committed);
    }
}
