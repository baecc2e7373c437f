using Granary.Storage;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Partitions;

/// <summary>
/// Retention and the overflow policy. Under <see cref="OverflowPolicy.DropOldest"/> retention deletes old segments
/// whatever the groups acknowledged (cursors skip ahead and count it). Under <see cref="OverflowPolicy.RejectPublish"/>
/// it keeps every segment holding an offset at or above the lowest committed offset of any group, and appends get
/// <see cref="ErrorCode.QueueFull"/> while the partition is at its size limit or retention is held back.
/// </summary>
internal sealed partial class PartitionGrain
{
    private Task? _committedLoad;
    private bool _committedLoaded;
    private bool _retentionHeldBack;

    private bool RejectsOnOverflow => _config?.Overflow == OverflowPolicy.RejectPublish;

    /// <summary>
    /// The committed offsets of the groups this activation has not heard from: asked of their cursors once, after the
    /// log is open (a cursor asked during the open would call back into it and wait for the open to finish).
    /// </summary>
    private Task EnsureCommittedLoadedAsync()
    {
        if (_committedLoaded) return Task.CompletedTask;
        return _committedLoad ??= LoadCommittedAsync();
    }

    private async Task LoadCommittedAsync()
    {
        try
        {
            await RefreshCommittedAsync();
            _committedLoaded = true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _committedLoad = null; // the next append tries again
            throw e as GranaryException ?? new GranaryException(ErrorCode.PartitionUnavailable,
                $"Partition {_partition} of topic '{_topic}' could not learn its groups' positions: {e.Message}", e);
        }
    }

    /// <summary>Follows the topic's groups: forgets deleted ones and asks new ones' cursors where they are.</summary>
    private async Task RefreshCommittedAsync()
    {
        var groups = await GrainFactory.GetGrain<ITopicGrain>(_topic).GetGroupsAsync();
        foreach (string gone in _committed.Keys.Except(groups).ToList()) _committed.Remove(gone);
        var unknown = groups.Where(g => !_committed.ContainsKey(g)).ToList();
        var positions = await Task.WhenAll(unknown.Select(async group =>
            (group, (await GrainFactory.GetGrain<IPartitionCursorGrain>(GrainKeys.Cursor(_topic, group, _partition)).DescribeAsync()).CommittedOffset)));
        // A report that arrived meanwhile is newer than what the cursor described.
        foreach (var (group, committed) in positions) _committed.TryAdd(group, committed);
    }

    /// <summary>Lowest committed offset of any group: nothing at or above it may be deleted. No groups: no limit.</summary>
    private long KeepFromOffset(PartitionLog log)
    {
        if (!_committedLoaded) return log.StartOffset;
        long lowest = long.MaxValue;
        foreach (long committed in _committed.Values) lowest = Math.Min(lowest, committed);
        return lowest;
    }

    /// <summary>
    /// Under <see cref="OverflowPolicy.RejectPublish"/>, makes room for <paramref name="batchBytes"/> by retention if
    /// the groups allow it, or refuses the append with <see cref="ErrorCode.QueueFull"/>.
    /// </summary>
    private void EnsureRoom(PartitionLog log, int batchBytes)
    {
        if (!RejectsOnOverflow) return;
        long? limit = _config!.RetentionBytes;
        bool over = limit is { } bytes && log.SizeInBytes + batchBytes > bytes;
        if (!over && !_retentionHeldBack) return;
        long keepFrom = KeepFromOffset(log);
        RunRetention(log, keepFrom, over ? batchBytes : 0);
        if (_retentionHeldBack)
            throw new GranaryException(ErrorCode.QueueFull,
                $"Partition {_partition} of topic '{_topic}' is full: retention is held back by a consumer group's unacknowledged messages from offset {keepFrom}.");
        // Still over the limit with nothing held back: the excess is in the active segment, which retention never
        // deletes. Seal it, so that the next check can delete it once acknowledged (or refuse while it is not). The
        // limit therefore holds to within one segment, and a limit below the segment size makes segments that small.
        if (limit is { } max && log.SizeInBytes + batchBytes > max) log.RequestRoll();
    }

    private async Task OnRetentionTimerAsync()
    {
        if (_log is not { } log) return;
        if (!RejectsOnOverflow)
        {
            RunRetention(log, long.MaxValue, 0);
            return;
        }
        try
        {
            await RefreshCommittedAsync();
            _committedLoaded = true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogGroupsUnknown(logger, e, _topic, _partition);
        }
        if (_log == log) RunRetention(log, KeepFromOffset(log), 0);
    }

    /// <summary>Deletes whole segments past the topic's retention below <paramref name="keepFrom"/>; cursors behind them skip ahead on their next fetch.</summary>
    private void RunRetention(PartitionLog log, long keepFrom, long extraBytes)
    {
        try
        {
            var result = log.ApplyRetention(keepFrom, extraBytes);
            _retentionHeldBack = result.HeldBack;
            if (result.SegmentsDeleted > 0) LogRetention(logger, result.SegmentsDeleted, result.RecordsDeleted, _topic, _partition);
        }
        catch (LogWriteException e)
        {
            LogRetentionFailed(logger, e, _topic, _partition);
        }
    }

    [LoggerMessage(2002, LogLevel.Information, "Retention deleted {Segments} segments ({Records} offsets) of partition {Partition} of topic {Topic}")]
    private static partial void LogRetention(ILogger logger, int segments, long records, string topic, int partition);

    [LoggerMessage(2003, LogLevel.Error, "Retention failed on partition {Partition} of topic {Topic}")]
    private static partial void LogRetentionFailed(ILogger logger, Exception exception, string topic, int partition);

    [LoggerMessage(2005, LogLevel.Warning, "Partition {Partition} of topic {Topic} could not refresh its groups' positions; retention keeps what they may need")]
    private static partial void LogGroupsUnknown(ILogger logger, Exception exception, string topic, int partition);
}
