using Granary.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Grains.Hosting.StateFiles;

/// <summary>
/// Removes the temp files that writes interrupted by a crash (or failed on a full disk) left in the data directory,
/// when the silo starts and before any grain writes: <c>*.{guid}.tmp</c> of grain state and reminders, and the
/// <c>*.tmp</c> of partition directories (a partition also removes its own when it opens, but a partition that is never
/// opened again would keep them). Only Granary's own folders are searched: <c>state/</c>, <c>logs/</c> and the
/// reminders file's temp files beside it.
/// </summary>
internal sealed partial class StaleTempFiles(IOptions<GranaryOptions> options, ILogger<StaleTempFiles> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(StaleTempFiles), ServiceLifecycleStage.RuntimeInitialize, _ =>
        {
            Clean();
            return Task.CompletedTask;
        });

    /// <summary>Deletes the stale temp files and logs how many; returns the count.</summary>
    public int Clean()
    {
        var granary = options.Value;
        var temps = Find(granary.StateDirectory, "*" + LogFileNames.TempSuffix, SearchOption.AllDirectories)
            .Concat(Find(granary.LogsDirectory, "*" + LogFileNames.TempSuffix, SearchOption.AllDirectories))
            .Concat(Find(Path.GetDirectoryName(granary.RemindersFile)!, Path.GetFileName(granary.RemindersFile) + ".*" + LogFileNames.TempSuffix, SearchOption.TopDirectoryOnly));
        int deleted = 0;
        foreach (string temp in temps)
        {
            try
            {
                File.Delete(temp);
                deleted++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogNotDeleted(logger, e, temp);
            }
        }
        if (deleted > 0) LogDeleted(logger, deleted, granary.DataDirectory);
        return deleted;
    }

    private static IEnumerable<string> Find(string directory, string pattern, SearchOption search) =>
        Directory.Exists(directory) ? Directory.EnumerateFiles(directory, pattern, search) : [];

    [LoggerMessage(7002, LogLevel.Warning, "Removed {Count} temp files of interrupted writes from data directory {DataDirectory}")]
    private static partial void LogDeleted(ILogger logger, int count, string dataDirectory);

    [LoggerMessage(7003, LogLevel.Warning, "Could not remove the stale temp file {File}")]
    private static partial void LogNotDeleted(ILogger logger, Exception exception, string file);
}
