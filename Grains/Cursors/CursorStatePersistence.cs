using Granary.Grains.Delivery;
using Granary.Grains.Hosting.StateFiles;
using Granary.Storage;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Cursors;

/// <summary>
/// Keeps one cursor's <see cref="DeliveryState"/> durable in its <see cref="ICursorStateLog"/>: reads the log at
/// activation (reporting torn tails and damage, importing state of the earlier format, resetting a cursor whose state
/// is lost to the partition's earliest offset), and saves what changed, at most once per <see cref="SaveInterval"/>,
/// one save at a time. Plain class, no Orleans: the grain gives it the earlier grain state, the partition's earliest
/// offset and what to do after each save.
/// </summary>
internal sealed partial class CursorStatePersistence
{
    /// <summary>
    /// The least time between two saves: acks arrive in many small batches and each save is fsynced, so changes made
    /// meanwhile are folded into the next save. A crash loses at most that interval of acks, and those messages are
    /// delivered again (at-least-once).
    /// </summary>
    public static readonly TimeSpan SaveInterval = TimeSpan.FromMilliseconds(100);

    private readonly ICursorStateLog _log;
    private readonly IEarlierCursorState _earlier;
    private readonly DeliveryState _delivery;
    private readonly Func<Task<long>> _earliestOffset;
    private readonly Func<Task> _afterSave;
    private readonly StateDamageLog _damageLog;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _topic, _group;
    private readonly int _partition;

    private bool _dirty, _stopped;
    private Task? _saving;
    // Read at activation, consumed by the first restore.
    private CursorStateLoad? _saved;
    // Seeks waiting for the first save that starts after them (a snapshot) to be durable.
    private TaskCompletionSource? _seekSaved;

    /// <param name="log">The cursor's state log, owned (closed by <see cref="Close"/>) from here on.</param>
    /// <param name="earlier">The grain state of the earlier format: imported once, and where state-file damage is reported.</param>
    /// <param name="delivery">The state saved and restored.</param>
    /// <param name="earliestOffset">The earliest offset the partition retains: where a cursor whose state is lost starts again.</param>
    /// <param name="afterSave">Runs after each save is durable (the grain updates its reminder and reports the committed offset); a failure fails the save.</param>
    /// <param name="damageLog">Where damage is reported.</param>
    /// <param name="time">The clock of the save interval.</param>
    /// <param name="logger">Logs torn tails, the import and failed saves.</param>
    /// <param name="topic">The cursor's topic, for logs.</param>
    /// <param name="group">The cursor's group, for logs.</param>
    /// <param name="partition">The cursor's partition, for logs.</param>
    public CursorStatePersistence(ICursorStateLog log, IEarlierCursorState earlier, DeliveryState delivery, Func<Task<long>> earliestOffset,
        Func<Task> afterSave, StateDamageLog damageLog, TimeProvider time, ILogger logger, string topic, string group, int partition)
    {
        (_log, _earlier, _delivery, _earliestOffset, _afterSave) = (log, earlier, delivery, earliestOffset, afterSave);
        (_damageLog, _time, _logger, _topic, _group, _partition) = (damageLog, time, logger, topic, group, partition);
    }

    /// <summary>Whether changes wait for a save.</summary>
    public bool IsDirty => _dirty;

    /// <summary>
    /// Reads the state log: a damaged frame after the snapshot is reported (the state is that of the frames before it;
    /// later acks are lost, so those messages come again), a damaged snapshot resets the cursor as a damaged state file
    /// does. A cursor with no log yet but state of the earlier format (a whole <see cref="CursorState"/> per save)
    /// takes that as its snapshot, then clears it.
    /// </summary>
    public async Task LoadAsync()
    {
        var loaded = _log.Loaded;
        if (loaded.TornTailBytes > 0) LogTornTail(_logger, _log.Location, loaded.TornTailBytes, _topic, _group, _partition);
        if (loaded.DamagedFrame is { } frame)
            _damageLog.Report("cursor", _log.Location, frame, StateDamageAction.RestoredPrevious,
                $"group '{_group}' on partition {_partition} of topic '{_topic}' continues from the frames before the damaged one (a copy is kept as {loaded.DamagedCopy}); acks saved after it are lost, so those messages are delivered again");
        var damage = _earlier.State.Damage ?? (loaded.Damage is { } problem ? new StateFileDamage(_log.Location, problem) : null);
        if (damage is not null)
        {
            await RecoverFromDamageAsync(damage);
        }
        else if (loaded.Snapshot is not null)
        {
            _saved = loaded;
        }
        else if (_earlier.Exists && _earlier.State.CommittedOffset is { } committed)
        {
            var snapshot = Import(_earlier.State, committed);
            await _log.SaveAsync(null, () => snapshot);
            await _earlier.ClearAsync();
            _saved = new CursorStateLoad { Snapshot = snapshot };
            LogMigrated(_logger, _topic, _group, _partition);
        }
    }

    /// <summary>State of the earlier format as a snapshot: its acknowledged offsets above the committed one as ranges.</summary>
    private static CursorStateSnapshot Import(CursorState old, long committed)
    {
        var snapshot = new CursorStateSnapshot
        {
            Committed = committed, Attempts = old.Attempts, RetryAt = old.RetryAt,
            Expired = old.Expired, DeadLettered = old.DeadLettered, Skipped = old.Skipped,
        };
        foreach (long offset in old.AckedAbove.Where(o => o >= committed).Order())
        {
            if (snapshot.Acked.Count > 0 && snapshot.Acked[^1].End >= offset)
                snapshot.Acked[^1] = (snapshot.Acked[^1].Start, Math.Max(snapshot.Acked[^1].End, offset + 1));
            else snapshot.Acked.Add((offset, offset + 1));
        }
        return snapshot;
    }

    /// <summary>
    /// The cursor's state was damaged and had no good previous copy: what was acknowledged is unknown, so the cursor never
    /// moves forward on a guess. It starts again from the earliest offset the partition retains (messages from there are
    /// delivered again) and writes that at once, so the damage is repaired and reported once. If the partition cannot
    /// answer, the load fails and the next activation tries again (the damaged state is still there).
    /// </summary>
    private async Task RecoverFromDamageAsync(StateFileDamage damage)
    {
        long earliest = await _earliestOffset();
        var snapshot = new CursorStateSnapshot { Committed = earliest };
        await _log.SaveAsync(null, () => snapshot);
        if (_earlier.Exists) await _earlier.ClearAsync();
        _saved = new CursorStateLoad { Snapshot = snapshot };
        _damageLog.Report("cursor", damage.File, damage.Problem, StateDamageAction.Reset,
            $"group '{_group}' on partition {_partition} of topic '{_topic}' starts again from the earliest retained offset {earliest}; messages from there are delivered again");
    }

    /// <summary>
    /// Puts what <see cref="LoadAsync"/> read into the delivery state (the snapshot, then every delta after it), once.
    /// False when nothing was saved: the caller then sets the start position and calls <see cref="MarkDirty"/>.
    /// </summary>
    public bool TryRestore()
    {
        if (_saved?.Snapshot is not { } snapshot) return false;
        _delivery.Restore(snapshot);
        foreach (var delta in _saved.Deltas) _delivery.Replay(delta);
        _saved = null;
        return true;
    }

    /// <summary>The delivery state changed: a save follows within <see cref="SaveInterval"/>.</summary>
    public void MarkDirty()
    {
        if (_stopped) return;
        _dirty = true;
        _saving ??= SaveLoopAsync();
    }

    /// <summary>
    /// Completes once a save that started after this call is durable (a seek is answered once the new position is):
    /// faults if that save fails. Completes at once after <see cref="StopAsync"/>.
    /// </summary>
    public Task SavedAfterNowAsync() =>
        _stopped ? Task.CompletedTask : (_seekSaved ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>
    /// One save at a time, at most one per <see cref="SaveInterval"/>. A failed save is logged and retried, with
    /// everything, on the next change.
    /// </summary>
    private async Task SaveLoopAsync()
    {
        try
        {
            while (_dirty && !_stopped)
            {
                await Task.Delay(SaveInterval, _time);
                await SaveAsync();
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _dirty = true; // the next change retries with everything
            LogSaveFailed(_logger, e, _topic, _group, _partition);
        }
        finally
        {
            _saving = null;
        }
    }

    private async Task SaveAsync()
    {
        if (_stopped) return;
        _dirty = false;
        var seeks = _seekSaved; // this save includes every seek made so far
        _seekSaved = null;
        try
        {
            await _log.SaveAsync(_delivery.TakeChanges(), _delivery.ToSnapshot);
        }
        catch (Exception e)
        {
            seeks?.TrySetException(e);
            throw;
        }
        seeks?.TrySetResult();
        await _afterSave();
    }

    /// <summary>At deactivation: waits for the save in progress, then saves what is still unsaved.</summary>
    public async Task FlushAsync()
    {
        if (_saving is not null) await _saving;
        if (_dirty) await SaveAsync();
    }

    /// <summary>
    /// Before a delete: no save starts from now on; completes when the one in progress (and its
    /// <c>afterSave</c>) is done.
    /// </summary>
    public Task StopAsync()
    {
        _stopped = true;
        return _saving ?? Task.CompletedTask;
    }

    /// <summary>After <see cref="StopAsync"/>: removes the state log and the earlier grain state; waiting seeks complete.</summary>
    public async Task DeleteAsync()
    {
        await _earlier.ClearAsync();
        await _log.DeleteAsync();
        _seekSaved?.TrySetResult(); // nothing left to save
        _dirty = false;
    }

    /// <summary>Closes the state log, at deactivation (the grain's lifetime ends there, not with a dispose).</summary>
    public void Close() => _log.Dispose();

    [LoggerMessage(3002, LogLevel.Error, "Could not save the cursor of group {Group} on partition {Partition} of topic {Topic}")]
    private static partial void LogSaveFailed(ILogger logger, Exception exception, string topic, string group, int partition);

    [LoggerMessage(3005, LogLevel.Warning, "Cut a torn last frame ({Bytes} bytes, an unconfirmed save a crash interrupted) off the state log {File} of group {Group} on partition {Partition} of topic {Topic}")]
    private static partial void LogTornTail(ILogger logger, string file, long bytes, string topic, string group, int partition);

    [LoggerMessage(3006, LogLevel.Information, "Moved the saved state of group {Group} on partition {Partition} of topic {Topic} into its state log")]
    private static partial void LogMigrated(ILogger logger, string topic, string group, int partition);
}
