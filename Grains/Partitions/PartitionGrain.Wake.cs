using Microsoft.Extensions.Logging;

namespace Granary.Grains.Partitions;

// Waking cursors for expiring and delayed messages, so that they are handled with no consumer connected.
internal sealed partial class PartitionGrain
{
    // True until the cursors are told about a timed append, and again once one of them stops watching.
    private bool _wakeNeeded = true;
    // End offset after the last append that held an expiring or delayed message.
    private long _timedEnd;

    private void OnTimedAppend(long endOffset)
    {
        _timedEnd = Math.Max(_timedEnd, endOffset);
        if (!_wakeNeeded) return;
        _wakeNeeded = false;
        _ = WakeCursorsAsync(null);
    }

    public Task WatchStoppedAsync(string group, long fromOffset)
    {
        // A timed message appended after the cursor's last look must not wait for the next timed append.
        if (_timedEnd > fromOffset) _ = WakeCursorsAsync(group);
        else _wakeNeeded = true;
        return Task.CompletedTask;
    }

    private async Task WakeCursorsAsync(string? onlyGroup)
    {
        try
        {
            string[] groups = onlyGroup is not null ? [onlyGroup] : await GrainFactory.GetGrain<ITopicGrain>(_topic).GetGroupsAsync();
            foreach (string group in groups)
                await GrainFactory.GetGrain<IPartitionCursorGrain>(GrainKeys.Cursor(_topic, group, _partition)).WakeAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _wakeNeeded = true; // try again with the next such append
            LogWakeFailed(logger, e, _topic, _partition);
        }
    }

    [LoggerMessage(2004, LogLevel.Warning, "Could not wake the cursors of partition {Partition} of topic {Topic} for expiring or delayed messages")]
    private static partial void LogWakeFailed(ILogger logger, Exception exception, string topic, int partition);
}
