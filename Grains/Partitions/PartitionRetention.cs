using Granary.Storage;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Partitions;

/// <summary>
/// Retention and the overflow policy of one partition. Under <see cref="OverflowPolicy.DropOldest"/> retention deletes
/// old segments whatever the groups acknowledged (cursors skip ahead and count it). Under
/// <see cref="OverflowPolicy.RejectPublish"/> it keeps every segment holding an offset at or above the lowest committed
/// offset of any group, and appends get <see cref="GranaryErrorCode.QueueFull"/> while the partition is at its size limit or
/// retention is held back. The groups' positions are what the grain learns (reports from cursors, and what it asked of
/// them); until it has asked, nothing a group may need is deleted. Not thread-safe: the partition grain's turns
/// serialise every use.
/// </summary>
internal sealed partial class PartitionRetention(string topic, int partition, ILogger logger)
{
    // Committed offset of each group's cursor, as reported or described.
    private readonly Dictionary<string, long> _committed = [];
    private bool _groupsKnown;
    private bool _heldBack;

    /// <summary>True once every group of the topic was asked for its position (<see cref="AddDescribed"/>).</summary>
    public bool GroupsKnown => _groupsKnown;

    /// <summary>True when the last retention pass kept segments past the limits because a group still needs them.</summary>
    public bool HeldBack => _heldBack;

    /// <summary>A cursor's report of where its group has acknowledged everything below.</summary>
    public void ReportCommitted(string group, long committedOffset) => _committed[group] = committedOffset;

    /// <summary>
    /// Follows the topic's current <paramref name="groups"/>: forgets deleted ones and returns those whose position is
    /// unknown, to be asked of their cursors and passed to <see cref="AddDescribed"/>.
    /// </summary>
    public IReadOnlyList<string> FollowGroups(IReadOnlyCollection<string> groups)
    {
        foreach (string gone in _committed.Keys.Except(groups).ToList()) _committed.Remove(gone);
        return groups.Where(g => !_committed.ContainsKey(g)).ToList();
    }

    /// <summary>
    /// Positions the cursors described; from now on the groups are known. A report that arrived meanwhile is newer than
    /// what the cursor described, so it wins.
    /// </summary>
    public void AddDescribed(IEnumerable<(string Group, long CommittedOffset)> positions)
    {
        foreach (var (group, committed) in positions) _committed.TryAdd(group, committed);
        _groupsKnown = true;
    }

    /// <summary>Lowest committed offset of any group: nothing at or above it may be deleted. No groups: no limit.</summary>
    public long KeepFromOffset(long logStartOffset)
    {
        if (!_groupsKnown) return logStartOffset;
        long lowest = long.MaxValue;
        foreach (long committed in _committed.Values) lowest = Math.Min(lowest, committed);
        return lowest;
    }

    /// <summary>
    /// Under <see cref="OverflowPolicy.RejectPublish"/>, makes room for <paramref name="batchBytes"/> by retention if
    /// the groups allow it, or refuses the append.
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.QueueFull"/>: a group's unacknowledged messages hold retention back.</exception>
    public void EnsureRoom(PartitionLog log, TopicConfig config, int batchBytes)
    {
        if (config.Overflow != OverflowPolicy.RejectPublish) return;
        long? limit = config.RetentionBytes;
        bool over = limit is { } bytes && log.SizeInBytes + batchBytes > bytes;
        if (!over && !_heldBack) return;
        long keepFrom = KeepFromOffset(log.StartOffset);
        Run(log, keepFrom, over ? batchBytes : 0);
        if (_heldBack)
            throw new GranaryException(GranaryErrorCode.QueueFull,
                $"Partition {partition} of topic '{topic}' is full: retention is held back by a consumer group's unacknowledged messages from offset {keepFrom}.");
        // Still over the limit with nothing held back: the excess is in the active segment, which retention never
        // deletes. Seal it, so that the next check can delete it once acknowledged (or refuse while it is not). The
        // limit therefore holds to within one segment, and a limit below the segment size makes segments that small.
        if (limit is { } max && log.SizeInBytes + batchBytes > max) log.RequestRoll();
    }

    /// <summary>A periodic (or on-open) pass: under RejectPublish only below what every group acknowledged.</summary>
    public void RunScheduled(PartitionLog log, TopicConfig config) =>
        Run(log, config.Overflow == OverflowPolicy.RejectPublish ? KeepFromOffset(log.StartOffset) : long.MaxValue, 0);

    /// <summary>Deletes whole segments past the topic's retention below <paramref name="keepFrom"/>; cursors behind them skip ahead on their next fetch.</summary>
    public void Run(PartitionLog log, long keepFrom, long extraBytes)
    {
        try
        {
            var result = log.ApplyRetention(keepFrom, extraBytes);
            _heldBack = result.HeldBack;
            if (result.SegmentsDeleted > 0) LogRetention(logger, result.SegmentsDeleted, result.RecordsDeleted, topic, partition);
        }
        catch (LogWriteException e)
        {
            LogRetentionFailed(logger, e, topic, partition);
        }
    }

    [LoggerMessage(2002, LogLevel.Information, "Retention deleted {Segments} segments ({Records} offsets) of partition {Partition} of topic {Topic}")]
    private static partial void LogRetention(ILogger logger, int segments, long records, string topic, int partition);

    [LoggerMessage(2003, LogLevel.Error, "Retention failed on partition {Partition} of topic {Topic}")]
    private static partial void LogRetentionFailed(ILogger logger, Exception exception, string topic, int partition);
}
