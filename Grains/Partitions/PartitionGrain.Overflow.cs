using Granary.Storage;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Partitions;

/// <summary>
/// Wiring of retention and the overflow policy (the rules are <see cref="PartitionRetention"/>'s): asking the topic for
/// its groups and their cursors for their positions, and the retention timer.
/// </summary>
internal sealed partial class PartitionGrain
{
    private Task? _committedLoad;

    private bool RejectsOnOverflow => _config?.Overflow == OverflowPolicy.RejectPublish;

    /// <summary>
    /// The committed offsets of the groups this activation has not heard from: asked of their cursors once, after the
    /// log is open (a cursor asked during the open would call back into it and wait for the open to finish).
    /// </summary>
    private Task EnsureCommittedLoadedAsync()
    {
        if (Retention.GroupsKnown) return Task.CompletedTask;
        return _committedLoad ??= LoadCommittedAsync();
    }

    private async Task LoadCommittedAsync()
    {
        try
        {
            await RefreshCommittedAsync();
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
        var unknown = Retention.FollowGroups(groups);
        var positions = await Task.WhenAll(unknown.Select(async group =>
            (group, (await GrainFactory.GetGrain<IPartitionCursorGrain>(GrainKeys.Cursor(_topic, group, _partition)).DescribeAsync()).CommittedOffset)));
        Retention.AddDescribed(positions);
    }

    private async Task OnRetentionTimerAsync()
    {
        if (_log is not { } log || _config is not { } config) return;
        if (RejectsOnOverflow)
        {
            try
            {
                await RefreshCommittedAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogGroupsUnknown(logger, e, _topic, _partition);
            }
        }
        if (_log == log) Retention.RunScheduled(log, _config ?? config);
    }

    [LoggerMessage(2005, LogLevel.Warning, "Partition {Partition} of topic {Topic} could not refresh its groups' positions; retention keeps what they may need")]
    private static partial void LogGroupsUnknown(ILogger logger, Exception exception, string topic, int partition);
}
