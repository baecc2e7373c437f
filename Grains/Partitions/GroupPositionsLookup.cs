using Microsoft.Extensions.Logging;

namespace Granary.Grains.Partitions;

/// <summary>
/// How a partition learns where its topic's groups stand, for retention under <see cref="OverflowPolicy.RejectPublish"/>
/// (<see cref="PartitionRetention"/> keeps the positions and applies them): it asks the topic for its groups and the
/// cursors of the groups it has not heard from for their committed offsets. The calls come in as delegates (grain calls
/// in the grain), so the rules run without a cluster. Not thread-safe: the partition grain's turns serialise every use.
/// </summary>
/// <param name="retention">Where the positions go.</param>
/// <param name="groups">The topic's groups now.</param>
/// <param name="committedOf">A group's cursor's committed offset on this partition.</param>
/// <param name="topic">The partition's topic.</param>
/// <param name="partition">The partition.</param>
/// <param name="logger">Where a failed periodic refresh is reported.</param>
internal sealed partial class GroupPositionsLookup(PartitionRetention retention, Func<Task<string[]>> groups, Func<string, Task<long>> committedOf,
    string topic, int partition, ILogger logger)
{
    private Task? _firstLoad;

    /// <summary>
    /// Asks the groups this partition has not heard from where they stand, once (appends share the one load); after a
    /// failure the next call tries again. Called after the log is open: a cursor asked during the open would call back
    /// into the partition and wait for the open to finish.
    /// </summary>
    /// <exception cref="GranaryException">The topic or a cursor did not answer (<see cref="GranaryErrorCode.PartitionUnavailable"/> unless it said why).</exception>
    public Task EnsureLoadedAsync()
    {
        if (retention.GroupsKnown) return Task.CompletedTask;
        // A failed load is not kept: the next call tries again. Checked here rather than reset by the failing load,
        // which may fail before it returns (then a reset would come before the failed task was stored, and stick).
        if (_firstLoad is null || _firstLoad.IsFaulted || _firstLoad.IsCanceled) _firstLoad = LoadAsync();
        return _firstLoad;
    }

    /// <summary>
    /// The periodic refresh: follows the topic's groups (forgets deleted ones, asks new ones where they are). A failure
    /// is reported and leaves the positions as they were (retention then keeps what the groups may need).
    /// </summary>
    public async Task RefreshOrKeepAsync()
    {
        try
        {
            await RefreshAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogGroupsUnknown(logger, e, topic, partition);
        }
    }

    private async Task LoadAsync()
    {
        try
        {
            await RefreshAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw e as GranaryException ?? new GranaryException(GranaryErrorCode.PartitionUnavailable,
                $"Partition {partition} of topic '{topic}' could not learn its groups' positions: {e.Message}", e);
        }
    }

    private async Task RefreshAsync()
    {
        var unknown = retention.FollowGroups(await groups());
        var positions = await Task.WhenAll(unknown.Select(async group => (group, await committedOf(group))));
        retention.AddDescribed(positions);
    }

    [LoggerMessage(2005, LogLevel.Warning, "Partition {Partition} of topic {Topic} could not refresh its groups' positions; retention keeps what they may need")]
    private static partial void LogGroupsUnknown(ILogger logger, Exception exception, string topic, int partition);
}
