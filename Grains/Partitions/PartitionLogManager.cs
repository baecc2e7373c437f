using Granary.Grains.Hosting;
using Granary.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Granary.Grains.Partitions;

/// <summary>
/// Opens partition logs under the data directory and closes any still open when the silo stops, so a clean
/// shutdown always ends with flushed, checkpointed logs (grains close their own log on deactivation first). A log is
/// opened once per silo: in cluster mode a partition's leader and its replica grain can both be active on one silo
/// (leadership just moved there), and they share the log and its leader epochs.
/// </summary>
internal sealed class PartitionLogManager(IOptions<GranaryOptions> options, IOptions<PartitionLogOptions> logOptions, ILoggerFactory loggers,
    TimeProvider time) : IAsyncDisposable
{
    private sealed class OpenLog(Task<(PartitionLog Log, LeaderEpochs Epochs)> opening)
    {
        public Task<(PartitionLog Log, LeaderEpochs Epochs)> Opening { get; } = opening;
        public int References { get; set; } = 1;
    }

    private readonly Dictionary<string, OpenLog> _open = [];

    // One cache for the sealed segments of every log of the silo, so their handles stay bounded however many there are.
    private readonly SegmentHandleCache _handleCache = new(logOptions.Value.SealedSegmentHandles ?? SegmentHandleCache.DefaultCapacity());
    private readonly int _maxOpenLogs = options.Value.MaxOpenPartitionLogs ?? DefaultMaxOpenLogs(logOptions.Value.SealedSegmentHandles ?? SegmentHandleCache.DefaultCapacity());

    /// <summary>
    /// Logs open at once by default: each holds its active segment's handle, so what the process may open, less the
    /// sealed-segment cache and a reserve for sockets, index and state files; unbounded when the limit is unknown.
    /// </summary>
    internal static int DefaultMaxOpenLogs(int sealedHandles) =>
        SegmentHandleCache.ProcessOpenFileLimit() is { } limit
            ? (int)Math.Clamp(limit - sealedHandles - 1024, 64, int.MaxValue)
            : int.MaxValue;

    /// <summary>The silo's shared sealed-segment handle cache.</summary>
    public SegmentHandleCache HandleCache => _handleCache;

    /// <summary>Most logs open at once (<see cref="GranaryOptions.MaxOpenPartitionLogs"/> or its default).</summary>
    public int MaxOpenLogs => _maxOpenLogs;
    private readonly Lazy<FileSystemFlusher?> _flusher = new(() =>
    {
        if (options.Value.FlushScope != FlushScope.FileSystem || !FileSystemFlusher.IsSupported) return null;
        System.IO.Directory.CreateDirectory(options.Value.LogsDirectory);
        return new FileSystemFlusher(options.Value.LogsDirectory);
    });

    private readonly PartitionPaths _paths = new(options.Value.LogsDirectory);

    /// <summary>
    /// The directory of a partition's log in the topic's incarnation (<see cref="TopicConfig.Incarnation"/>): every
    /// path of a partition log comes from <see cref="PartitionPaths"/>.
    /// </summary>
    public string DirectoryOf(string topic, string? incarnation, int partition) => _paths.PartitionDirectory(topic, incarnation, partition);

    /// <summary>Opens (recovering if needed) the log of a partition, or shares the one open already.</summary>
    public async Task<PartitionLog> OpenAsync(string topic, int partition, TopicConfig config) =>
        (await OpenWithEpochsAsync(topic, partition, config).ConfigureAwait(false)).Log;

    /// <summary>Opens the log of a partition, in the incarnation <paramref name="config"/> names, together with its leader epochs (cluster mode).</summary>
    public async Task<(PartitionLog Log, LeaderEpochs Epochs)> OpenWithEpochsAsync(string topic, int partition, TopicConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        string directory = DirectoryOf(topic, config.Incarnation, partition);
        OpenLog entry;
        lock (_open)
        {
            if (_open.TryGetValue(directory, out var existing))
            {
                existing.References++;
                entry = existing;
            }
            else
            {
                if (_open.Count >= _maxOpenLogs)
                {
                    // The limit stands in for the process's descriptor limit: recorded as running out of it, so the
                    // health check reports the silo not ready for a while, as it would for a real EMFILE.
                    OpenFileExhaustion.Observe(new IOException($"Too many open files: {_open.Count} partition logs open (Granary:MaxOpenPartitionLogs)", 24), time);
                    throw new GranaryException(GranaryErrorCode.PartitionUnavailable,
                        $"Partition {partition} of topic '{topic}' cannot open its log now: this silo has {_open.Count} partition logs open, " +
                        $"its limit (Granary:MaxOpenPartitionLogs, {_maxOpenLogs}). Retry later; idle partitions close theirs.");
                }
                entry = new OpenLog(OpenCoreAsync(directory, config, topic));
                _open[directory] = entry;
            }
        }
        try
        {
            return await entry.Opening.ConfigureAwait(false);
        }
        catch
        {
            Release(directory, entry);
            throw;
        }
    }

    /// <summary>The leader epochs of a log opened here.</summary>
    public LeaderEpochs EpochsOf(PartitionLog log)
    {
        lock (_open) return _open[log.Directory].Opening.Result.Epochs;
    }

    private async Task<(PartitionLog, LeaderEpochs)> OpenCoreAsync(string directory, TopicConfig config, string topic)
    {
        var settings = logOptions.Value.Clone();
        (settings.RetentionTime, settings.RetentionBytes, settings.MaxBatchBytes) = Limits(config);
        settings.SharedFlusher = _flusher.Value;
        settings.SharedHandleCache = _handleCache;
        settings.GapReported = gap => Diagnostics.GranaryMetrics.RecordLostOffsets(topic, gap.Count);
        var logger = loggers.CreateLogger("Granary.Storage");
        var log = await PartitionLog.OpenAsync(directory, settings, logger, time).ConfigureAwait(false);
        return (log, LeaderEpochs.Load(log.Directory, logger));
    }

    /// <summary>Applies a topic's changed retention and message-size settings to one of its open logs.</summary>
    public void Reconfigure(PartitionLog log, TopicConfig config)
    {
        var (time, bytes, maxBatch) = Limits(config);
        log.UpdateLimits(time, bytes, maxBatch);
    }

    // The topic's settings over the silo's defaults; a batch must fit the largest message with room for its framing.
    private (TimeSpan? RetentionTime, long? RetentionBytes, int MaxBatchBytes) Limits(TopicConfig config) =>
        (config.RetentionTime ?? logOptions.Value.RetentionTime,
         config.RetentionBytes ?? logOptions.Value.RetentionBytes,
         Math.Max(logOptions.Value.MaxBatchBytes, config.MaxMessageBytes + 1024));

    /// <summary>Closes a log opened here, once its last user closes it.</summary>
    public async Task CloseAsync(PartitionLog log)
    {
        OpenLog? entry;
        lock (_open)
        {
            if (!_open.TryGetValue(log.Directory, out entry) || !(entry.Opening.IsCompletedSuccessfully && entry.Opening.Result.Log == log) || --entry.References > 0) return;
            _open.Remove(log.Directory);
        }
        await log.DisposeAsync().ConfigureAwait(false);
    }

    private void Release(string directory, OpenLog entry)
    {
        lock (_open)
        {
            if (--entry.References == 0 && _open.TryGetValue(directory, out var current) && current == entry) _open.Remove(directory);
        }
    }

    /// <summary>
    /// Deletes a partition's directory, first closing its log if another grain of this silo still has it open (a
    /// replica grain right after leadership moved here). Only the given incarnation's directory goes: a topic created
    /// again under the name has directories of its own.
    /// </summary>
    public async Task DeleteAsync(string topic, string? incarnation, int partition)
    {
        string directory = DirectoryOf(topic, incarnation, partition);
        OpenLog? entry;
        lock (_open)
        {
            if (_open.Remove(directory, out entry)) entry.References = 0;
        }
        if (entry is not null)
        {
            try
            {
                await (await entry.Opening.ConfigureAwait(false)).Log.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // the files are being deleted anyway
            }
        }
        if (System.IO.Directory.Exists(directory)) System.IO.Directory.Delete(directory, recursive: true);
        _paths.RemoveEmptyParents(topic, incarnation);
    }

    /// <summary>Closes every log still open.</summary>
    public async ValueTask DisposeAsync()
    {
        OpenLog[] entries;
        lock (_open)
        {
            entries = [.. _open.Values];
            _open.Clear();
        }
        foreach (var entry in entries)
        {
            if (entry.Opening.IsCompletedSuccessfully) await entry.Opening.Result.Log.DisposeAsync().ConfigureAwait(false);
        }
        if (_flusher.IsValueCreated) _flusher.Value?.Dispose();
    }
}
