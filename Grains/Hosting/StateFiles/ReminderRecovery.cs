using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Granary.Grains.Hosting.StateFiles;

/// <summary>
/// Re-creates reminders lost with a damaged reminder table. Only cursors register reminders (to handle unacknowledged,
/// delayed and expiring messages with no consumer connected); a cursor registers its reminder again whenever it is
/// woken and has such work. So once the silo is active after a damaged table was rebuilt (or read from its previous
/// copy), every cursor with a state file is woken once, in the background: those with pending work register their
/// reminder, the others stop watching and register nothing.
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
        var cursors = files.ListStoredGrains("cursor", GrainType.Create("granary.cursor"), out int unattributed);
        int woken = 0;
        foreach (var cursor in cursors)
        {
            try
            {
                await grains.GetGrain<IPartitionCursorGrain>(cursor.Key.ToString()!).WakeAsync().ConfigureAwait(false);
                woken++;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogWakeFailed(logger, e, cursor.Key.ToString()!); // a deleted topic's cursor, say: nothing to remind
            }
        }
        LogWoken(logger, woken, cursors.Count, unattributed);
    }

    [LoggerMessage(7004, LogLevel.Warning, "The reminder table was damaged: woke {Woken} of {Cursors} cursors so that those with pending work register their reminder again ({Unattributed} cursor state files name no cursor)")]
    private static partial void LogWoken(ILogger logger, int woken, int cursors, int unattributed);

    [LoggerMessage(7005, LogLevel.Warning, "Could not wake cursor {Cursor} after the reminder table was damaged")]
    private static partial void LogWakeFailed(ILogger logger, Exception exception, string cursor);
}
