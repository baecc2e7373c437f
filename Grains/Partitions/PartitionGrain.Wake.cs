using Microsoft.Extensions.Logging;

namespace Granary.Grains.Partitions;

// Wiring of the cursor wake-up for expiring and delayed messages (the rule is TimedAppendWatch's).
internal sealed partial class PartitionGrain
{
    private readonly TimedAppendWatch _timedWatch = new();

    private void OnTimedAppend(long endOffset)
    {
        if (_timedWatch.OnTimedAppend(endOffset)) _ = WakeCursorsAsync(null);
    }

    public Task WatchStoppedAsync(string group, long fromOffset)
    {
        // A timed message appended after the cursor's last look must not wait for the next timed append.
        if (_timedWatch.OnWatchStopped(fromOffset)) _ = WakeCursorsAsync(group);
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
            _timedWatch.OnWakeFailed(); // try again with the next such append
            LogWakeFailed(logger, e, _topic, _partition);
        }
    }

    [LoggerMessage(2004, LogLevel.Warning, "Could not wake the cursors of partition {Partition} of topic {Topic} for expiring or delayed messages")]
    private static partial void LogWakeFailed(ILogger logger, Exception exception, string topic, int partition);
}
