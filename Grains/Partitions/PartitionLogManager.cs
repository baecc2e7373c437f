using System.Collections.Concurrent;
using Granary.Grains.Hosting;
using Granary.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Grains.Partitions;

/// <summary>
/// Opens partition logs under the data directory and closes any still open when the silo stops, so a clean
/// shutdown always ends with flushed, checkpointed logs (grains close their own log on deactivation first).
/// </summary>
internal sealed class PartitionLogManager(IOptions<GranaryOptions> options, IOptions<PartitionLogOptions> logOptions, ILoggerFactory loggers) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, PartitionLog> _open = new();
    private readonly Lazy<FileSystemFlusher?> _flusher = new(() =>
    {
        if (options.Value.FlushScope != FlushScope.FileSystem || !FileSystemFlusher.IsSupported) return null;
        System.IO.Directory.CreateDirectory(options.Value.LogsDirectory);
        return new FileSystemFlusher(options.Value.LogsDirectory);
    });

    /// <summary>The directory of a partition's log.</summary>
    public string DirectoryOf(string topic, int partition) =>
        Path.Combine(options.Value.LogsDirectory, topic, partition.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Opens (recovering if needed) the log of a partition.</summary>
    public async Task<PartitionLog> OpenAsync(string topic, int partition, TopicConfig config)
    {
        var settings = logOptions.Value.Clone();
        settings.RetentionTime = config.RetentionTime ?? settings.RetentionTime;
        settings.RetentionBytes = config.RetentionBytes ?? settings.RetentionBytes;
        settings.MaxBatchBytes = Math.Max(settings.MaxBatchBytes, config.MaxMessageBytes + 1024);
        settings.SharedFlusher = _flusher.Value;
        string directory = DirectoryOf(topic, partition);
        var log = await PartitionLog.OpenAsync(directory, settings, loggers.CreateLogger("Granary.Storage")).ConfigureAwait(false);
        _open[directory] = log;
        return log;
    }

    /// <summary>Closes a log opened here.</summary>
    public async Task CloseAsync(PartitionLog log)
    {
        _open.TryRemove(log.Directory, out _);
        await log.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Closes every log still open.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var log in _open.Values) await CloseAsync(log).ConfigureAwait(false);
        if (_flusher.IsValueCreated) _flusher.Value?.Dispose();
    }
}
