using Microsoft.Extensions.Logging;

namespace Granary.Grains.Partitions;

/// <summary>
/// Wakes a partition's cursors for expiring and delayed messages, so those are handled with no consumer connected:
/// <see cref="TimedAppendWatch"/> decides when, this class makes the calls (the topic's groups, each group's cursor
/// woken one after the other) and, when they fail, lets the next timed append try again. The calls come in as delegates
/// (grain calls in the grain). Not thread-safe: the partition grain's turns serialise every use.
/// </summary>
/// <param name="groups">The topic's groups now.</param>
/// <param name="wake">Wakes a group's cursor on this partition.</param>
/// <param name="topic">The partition's topic.</param>
/// <param name="partition">The partition.</param>
/// <param name="logger">Where a failed wake-up is reported.</param>
internal sealed partial class CursorWakeup(Func<Task<string[]>> groups, Func<string, Task> wake, string topic, int partition, ILogger logger)
{
    private readonly TimedAppendWatch _watch = new();

    /// <summary>
    /// An append holding expiring or delayed messages ended at <paramref name="endOffset"/>. Returns the wake-up it
    /// started (every group's cursor), or a completed task; it never fails, so callers need not await it.
    /// </summary>
    public Task OnTimedAppend(long endOffset) => _watch.OnTimedAppend(endOffset) ? WakeAsync(null) : Task.CompletedTask;

    /// <summary>
    /// <paramref name="group"/>'s cursor stopped watching, having looked up to <paramref name="fromOffset"/>: a timed
    /// message appended after that wakes it again at once (returned, never fails), rather than with the next timed append.
    /// </summary>
    public Task OnWatchStopped(string group, long fromOffset) => _watch.OnWatchStopped(fromOffset) ? WakeAsync(group) : Task.CompletedTask;

    private async Task WakeAsync(string? onlyGroup)
    {
        try
        {
            string[] targets = onlyGroup is not null ? [onlyGroup] : await groups();
            foreach (string group in targets) await wake(group);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _watch.OnWakeFailed(); // try again with the next such append
            LogWakeFailed(logger, e, topic, partition);
        }
    }

    [LoggerMessage(2004, LogLevel.Warning, "Could not wake the cursors of partition {Partition} of topic {Topic} for expiring or delayed messages")]
    private static partial void LogWakeFailed(ILogger logger, Exception exception, string topic, int partition);
}
