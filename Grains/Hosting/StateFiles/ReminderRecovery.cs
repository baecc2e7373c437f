using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Granary.Grains.Hosting.StateFiles;

/// <summary>
/// Re-creates reminders lost with a damaged reminder table. Only cursors register reminders (to handle unacknowledged,
/// delayed and expiring messages with no consumer connected); a cursor registers its reminder again whenever it is
/// woken and has such work. So once the silo is active after a damaged table was rebuilt (or read from its previous
/// copy), every cursor with a state file is woken once, in the background: those with pending work register their
/// reminder, the others stop watching and register nothing. Cursor files of the earlier unframed format do not name
/// their cursor; when there are such files, the cursors of every listed topic's groups are woken too.
/// </summary>
internal sealed partial class ReminderRecovery(IServiceProvider services, IGrainFactory grains, ILogger<ReminderRecovery> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private Task? _waking;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ReminderRecovery), ServiceLifecycleStage.Active, _ =>
        {
            if (services.GetService<IReminderTable>() is FileReminderTable { WasDamaged: true })
                _waking = Task.Run(WakeCursorsAsync, CancellationToken.None);
            return Task.CompletedTask;
        }, async _ =>
        {
            if (_waking is not null) await _waking.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        });

    private async Task WakeCursorsAsync()
    {
        if (services.GetKeyedService<IGrainStorage>(SiloBuilderExtensions.StorageName) is not FileGrainStorage files) return;
        var cursors = files.ListStoredGrains("cursor", GrainType.Create("granary.cursor"), out int unattributed)
            .Select(cursor => cursor.Key.ToString()!).ToHashSet(StringComparer.Ordinal);
        // Cursors keep their state in state logs now (grain state files only until they are first activated again).
        if (services.GetService<Cursors.ICursorStateStore>() is Cursors.FileCursorStateStore logs)
        {
            cursors.UnionWith(logs.ListStoredCursors(out int unreadable));
            unattributed += unreadable;
        }
        if (unattributed > 0) cursors.UnionWith(await CursorsOfListedTopicsAsync().ConfigureAwait(false));
        int woken = 0;
        foreach (string cursor in cursors)
        {
            try
            {
                await grains.GetGrain<IPartitionCursorGrain>(cursor).WakeAsync().ConfigureAwait(false);
                woken++;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogWakeFailed(logger, e, cursor); // a deleted topic's cursor, say: nothing to remind
            }
        }
        LogWoken(logger, woken, cursors.Count, unattributed);
    }

    // Every cursor the listed topics' groups can have: one per group and partition.
    private async Task<IEnumerable<string>> CursorsOfListedTopicsAsync()
    {
        var keys = new List<string>();
        foreach (string topic in await grains.GetGrain<ITopicRegistryGrain>(ITopicRegistryGrain.Key).ListAsync().ConfigureAwait(false))
        {
            try
            {
                var config = await grains.GetGrain<ITopicGrain>(topic).GetConfigAsync().ConfigureAwait(false);
                foreach (string group in await grains.GetGrain<ITopicGrain>(topic).GetGroupsAsync().ConfigureAwait(false))
                    keys.AddRange(Enumerable.Range(0, config.Partitions).Select(p => GrainKeys.Cursor(topic, group, p)));
            }
            catch (GranaryException e)
            {
                LogWakeFailed(logger, e, topic); // deleted or damaged meanwhile: its own calls say so
            }
        }
        return keys;
    }

    [LoggerMessage(7004, LogLevel.Warning, "The reminder table was damaged: woke {Woken} of {Cursors} cursors so that those with pending work register their reminder again ({Unattributed} cursor state files name no cursor)")]
    private static partial void LogWoken(ILogger logger, int woken, int cursors, int unattributed);

    [LoggerMessage(7005, LogLevel.Warning, "Could not wake cursor {Cursor} after the reminder table was damaged")]
    private static partial void LogWakeFailed(ILogger logger, Exception exception, string cursor);
}
