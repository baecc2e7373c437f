using Orleans.Concurrency;
using Granary.Grains.Hosting;
using Granary.Grains.Placement;
using Microsoft.Extensions.Options;
using Granary.Storage;
using Microsoft.Extensions.Logging;

namespace Granary.Grains.Partitions;

/// <summary>
/// Owns one partition log. Reentrant: appends keep arriving while an fsync is in flight; each append writes in
/// call order and then awaits the flush that covers it (group commit). Fetches see only confirmed messages and
/// long-poll for new ones.
/// </summary>
// CA1001: the pooled builder is returned in OnDeactivateAsync, the end of a grain's life.
#pragma warning disable CA1001
[Reentrant, PartitionPlacement, GrainType("granary.partition")]
internal sealed partial class PartitionGrain(PartitionLogManager logs, IOptions<GranaryOptions> options, ILogger<PartitionGrain> logger) : Grain, IPartitionGrain
#pragma warning restore CA1001
{
    private const int FetchMaxBytes = 1 << 20;

    private string _topic = "";
    private int _partition;
    private TopicConfig? _config;
    private PartitionLog? _log;
    private Task<PartitionLog>? _opening;
    private readonly RecordBatchBuilder _builder = new(64 * 1024);
    private TaskCompletionSource _appended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Committed offset of each group's cursor, as reported (overflow policy RejectPublish).
    private readonly Dictionary<string, long> _committed = [];

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_topic, _partition) = GrainKeys.ParsePartition(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_log is not null) await logs.CloseAsync(_log);
        _log = null;
        _builder.Dispose();
    }

    public async Task<AppendResult> AppendAsync(MessageBatch batch)
    {
        if (batch?.Messages is not { Length: > 0 } messages)
            throw new GranaryException(ErrorCode.InvalidArgument, "A batch needs at least one message.");
        var log = await OpenLogAsync();
        var config = _config!;
        int limit = config.MaxMessageBytes;
        foreach (var message in messages)
        {
            if (message.SizeInBytes() > limit)
                throw new GranaryException(ErrorCode.MessageTooLarge, $"A message of {message.SizeInBytes()} bytes exceeds the limit of {limit} bytes of topic '{_topic}'.");
        }

        // Encode and hand to the log before the first await: the log copies the bytes synchronously, so the one
        // builder of this reentrant grain is never shared by two appends.
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long? defaultTtl = config.DefaultTimeToLive is { } ttl ? (long)ttl.TotalMilliseconds : null;
        bool timed = false;
        _builder.Reset();
        foreach (var message in messages)
        {
            long? expiresAt = (message.TimeToLiveMs ?? defaultTtl) is { } ttlMs ? now + Math.Max(0, ttlMs) : null;
            long? deliverAt = message.DeliverAtMs > now ? message.DeliverAtMs : null;
            timed |= expiresAt is not null || deliverAt is not null;
            _builder.Add(new LogRecord(message.Payload)
            {
                Key = message.Key,
                Headers = message.Headers is null ? null : Array.ConvertAll(message.Headers, h => new RecordHeader(h.Name, h.Value)),
                TimestampMs = now,
                ExpiresAtMs = expiresAt,
                DeliverAtMs = deliverAt,
            });
        }
        ValueTask<LogAppendResult> pending;
        try
        {
            pending = log.AppendAsync(_builder.Build());
        }
        catch (Exception e) when (e is LogWriteException or ArgumentException)
        {
            throw Translate(e);
        }

        LogAppendResult appended;
        try
        {
            appended = await pending;
        }
        catch (LogWriteException e)
        {
            throw Translate(e);
        }
        var waiting = _appended;
        _appended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        waiting.TrySetResult();
        if (timed) OnTimedAppend(appended.BaseOffset + appended.RecordCount);
        return new AppendResult(appended.BaseOffset, appended.RecordCount, now);
    }

    public async Task<FetchResult> FetchAsync(long fromOffset, int maxMessages, TimeSpan maxWait)
    {
        if (fromOffset < 0) throw new GranaryException(ErrorCode.InvalidArgument, $"Offset {fromOffset} is negative.");
        if (maxMessages < 1) throw new GranaryException(ErrorCode.InvalidArgument, "maxMessages must be positive.");
        var log = await OpenLogAsync();
        long from = Math.Max(fromOffset, log.StartOffset);
        if (from >= log.FlushedOffset && maxWait > TimeSpan.Zero)
        {
            await _appended.Task.WaitAsync(maxWait).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        }
        long end = log.FlushedOffset;
        from = Math.Max(from, log.StartOffset);
        if (from >= end) return new FetchResult([], from, log.StartOffset, end);

        LogReadResult read;
        try
        {
            read = await log.ReadAsync(from, FetchMaxBytes, end);
        }
        catch (LogCorruptedException e)
        {
            LogCorrupt(logger, e, _topic, _partition);
            throw new GranaryException(ErrorCode.CorruptData, $"Partition {_partition} of topic '{_topic}' has damaged data at offset {e.Offset}: {e.Reason}");
        }
        using (read)
        {
            var messages = new List<StoredMessage>();
            long next = from;
            foreach (var batch in read.GetBatches())
            {
                foreach (var record in batch)
                {
                    if (record.Offset < from) continue;
                    if (messages.Count == maxMessages) return new FetchResult([.. messages], next, log.StartOffset, end);
                    messages.Add(new StoredMessage(record.Offset, record.TimestampMs, record.Key?.ToArray(), record.Payload.ToArray(),
                        record.HeaderCount == 0 ? null : record.GetHeaders().Select(h => new MessageHeader(h.Name, h.Value.ToArray())).ToArray())
                    {
                        ExpiresAtMs = record.ExpiresAtMs,
                        DeliverAtMs = record.DeliverAtMs,
                    });
                    next = record.Offset + 1;
                }
            }
            return new FetchResult([.. messages], next, log.StartOffset, end);
        }
    }

    public async Task<long> FindOffsetAsync(long timestampMs)
    {
        var log = await OpenLogAsync();
        return Math.Min(await log.FindOffsetByTimestampAsync(timestampMs), log.FlushedOffset);
    }

    public Task ReportCommittedAsync(string group, long committedOffset)
    {
        _committed[group] = committedOffset;
        return Task.CompletedTask;
    }

    public async Task<PartitionInfo> DescribeAsync()
    {
        var log = await OpenLogAsync();
        return new PartitionInfo(_partition, log.StartOffset, log.FlushedOffset, log.SizeInBytes, RuntimeIdentity);
    }

    public async Task DeleteAsync()
    {
        if (_opening is not null)
        {
            try { await _opening; } catch (GranaryException) { }
        }
        if (_log is not null) await logs.CloseAsync(_log);
        _log = null;
        _opening = null;
        _config = null;
        string directory = logs.DirectoryOf(_topic, _partition);
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        this.DeactivateOnIdle();
    }

    private Task<PartitionLog> OpenLogAsync() =>
        _log is not null ? Task.FromResult(_log) : (_opening ??= OpenCoreAsync());

    private async Task<PartitionLog> OpenCoreAsync()
    {
        try
        {
            _config = await GrainFactory.GetGrain<ITopicGrain>(_topic).GetConfigAsync();
            if (_partition < 0 || _partition >= _config.Partitions)
                throw new GranaryException(ErrorCode.InvalidArgument, $"Topic '{_topic}' has no partition {_partition}.");
            _log = await logs.OpenAsync(_topic, _partition, _config);
            if (_config.RetentionTime is not null || _config.RetentionBytes is not null)
            {
                ApplyRetention();
                this.RegisterGrainTimer(() => { ApplyRetention(); return Task.CompletedTask; },
                    options.Value.RetentionCheckInterval, options.Value.RetentionCheckInterval);
            }
            return _log;
        }
        catch
        {
            _opening = null; // let the next call try again
            throw;
        }
    }

    /// <summary>Deletes whole segments past the topic's retention; cursors behind them skip ahead on their next fetch.</summary>
    private void ApplyRetention()
    {
        try
        {
            int deleted = _log?.ApplyRetention() ?? 0;
            if (deleted > 0) LogRetention(logger, deleted, _topic, _partition);
        }
        catch (LogWriteException e)
        {
            LogRetentionFailed(logger, e, _topic, _partition);
        }
    }

    private GranaryException Translate(Exception e)
    {
        if (e is LogWriteException write)
        {
            // The log refuses writes until reopened: deactivate so the next call reopens (and recovers) it.
            this.DeactivateOnIdle();
            return write.IsDiskFull
                ? new GranaryException(ErrorCode.DiskFull, $"The disk of partition {_partition} of topic '{_topic}' is full.")
                : new GranaryException(ErrorCode.PartitionUnavailable, $"Partition {_partition} of topic '{_topic}' failed to write: {write.Message}");
        }
        return new GranaryException(ErrorCode.InvalidArgument, e.Message);
    }

    [LoggerMessage(2002, LogLevel.Information, "Retention deleted {Segments} segments of partition {Partition} of topic {Topic}")]
    private static partial void LogRetention(ILogger logger, int segments, string topic, int partition);

    [LoggerMessage(2003, LogLevel.Error, "Retention failed on partition {Partition} of topic {Topic}")]
    private static partial void LogRetentionFailed(ILogger logger, Exception exception, string topic, int partition);

    [LoggerMessage(2001, LogLevel.Error, "Damaged data in partition {Partition} of topic {Topic}")]
    private static partial void LogCorrupt(ILogger logger, Exception exception, string topic, int partition);
}
