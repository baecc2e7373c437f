using System.Threading.Channels;
using Granary.Grains;
using Granary.Records;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Granary.Client.Internal;

/// <summary>
/// Batches a producer's messages for one partition: takes what is queued (waiting up to the linger time for more,
/// up to the batch size), sends it as one append, and keeps at most the configured number of batches in flight.
/// With idempotence each batch carries this sender's producer id and the sequence of its first message; both stay
/// the same across retries, so the partition recognises a retry of a batch it stored.
/// </summary>
internal sealed class PartitionSender : IAsyncDisposable
{
    private readonly IPartitionGrain _grain;
    private readonly string _topic;
    private readonly int _partition;
    private readonly ProducerOptions _options;
    private readonly Channel<PendingSend> _queue;
    private readonly SemaphoreSlim _inFlight;
    private readonly Task _loop;
    // Offered the sends of a batch the partition refused as unknown (TopicNotFound, InvalidArgument): true when the
    // producer took them over to route them again by the topic's current settings.
    private readonly Func<int, PendingSend[], GranaryException, bool> _onRefused;
    private readonly ILogger _logger;

    // The producer id and next sequence, guarded by _sequenceGate. A batch that fails for good leaves a gap in the
    // sequences that the partition would refuse forever, so the sender then moves to a fresh id.
    private readonly Lock _sequenceGate = new();
    private long _producerId;
    private int _nextSequence;
    // Settles when the first batch under the current id has its outcome. A partition accepts an id it does not know
    // at any sequence, so nothing else is sent under an id before its first batch is settled: a later batch arriving
    // first would make the partition refuse the first one as a stale retry.
    private Task _firstUnderId = Task.CompletedTask;
    // Settles when the batch dispatched last has its outcome: a batch refused as out of order waits for it.
    private Task _lastDispatched = Task.CompletedTask;

    public PartitionSender(IPartitionGrain grain, string topic, int partition, ProducerOptions options, long producerId,
        Func<int, PendingSend[], GranaryException, bool> onRefused, CancellationToken stopping, ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
        _grain = grain;
        _producerId = producerId;
        _onRefused = onRefused;
        _topic = topic;
        _partition = partition;
        _options = options;
        _queue = Channel.CreateBounded<PendingSend>(new BoundedChannelOptions(options.MaxBufferedMessages)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _inFlight = new SemaphoreSlim(options.MaxInFlightBatchesPerPartition);
        // The loop drains what is queued even while stopping, so it does not take the token. It serves every later
        // send, so it must not inherit the context of the send that created it: that send's publish activity (its
        // grain calls would all be traced under it) and whatever else the caller keeps in async locals.
        using (ExecutionContext.SuppressFlow()) _loop = Task.Run(() => RunAsync(stopping), CancellationToken.None);
    }

    /// <summary>Queues a send if there is room; false when the queue is full (then <see cref="EnqueueAsync"/> waits for room).</summary>
    public bool TryEnqueue(PendingSend send) => _queue.Writer.TryWrite(send);

    /// <summary>Queues a send, waiting for room; writers waiting for room are served in the order they came.</summary>
    public ValueTask EnqueueAsync(PendingSend send, CancellationToken cancellationToken) => _queue.Writer.WriteAsync(send, cancellationToken);

    /// <summary>Sends what is queued, waits for the batches in flight, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        for (int i = 0; i < _options.MaxInFlightBatchesPerPartition; i++) await _inFlight.WaitAsync().ConfigureAwait(false);
        _inFlight.Dispose();
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var reader = _queue.Reader;
        var batch = new List<PendingSend>();
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            int bytes = 0;
            // A message that would take a non-empty batch past BatchBytes waits for the next batch, so a batch is
            // either within BatchBytes or a single message (which the topic's size limit already bounds).
            while (batch.Count < _options.MaxBatchMessages && reader.TryPeek(out var next) && (batch.Count == 0 || bytes + next.Size <= _options.BatchBytes))
            {
                reader.TryRead(out var send);
                batch.Add(send!);
                bytes += send!.Size;
            }
            if (_options.LingerMs > 0 && bytes < _options.BatchBytes) bytes = await LingerAsync(reader, batch, bytes).ConfigureAwait(false);
            if (batch.Count == 0) continue;

            await _inFlight.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            var sending = batch.ToArray();
            batch.Clear();
            var settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var previous = _lastDispatched;
            _lastDispatched = settled.Task;
            var stamp = Stamp(sending.Length, settled.Task);
            _ = SendAsync(sending, stamp, previous, settled, stopping);
        }
    }

    private async Task<int> LingerAsync(ChannelReader<PendingSend> reader, List<PendingSend> batch, int bytes)
    {
        using var linger = new CancellationTokenSource(_options.LingerMs);
        try
        {
            while (batch.Count < _options.MaxBatchMessages && bytes < _options.BatchBytes)
            {
                if (reader.TryPeek(out var next))
                {
                    if (bytes + next.Size > _options.BatchBytes) break;
                    reader.TryRead(out var send);
                    batch.Add(send!);
                    bytes += send!.Size;
                }
                else if (!await reader.WaitToReadAsync(linger.Token).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (linger.IsCancellationRequested)
        {
        }
        return bytes;
    }

    /// <summary>The producer id and first sequence for a new batch of <paramref name="count"/> messages.</summary>
    private BatchStamp Stamp(int count, Task settled)
    {
        if (_producerId == 0) return default;
        lock (_sequenceGate)
        {
            if (_nextSequence > int.MaxValue - count) SwitchProducerIdLocked(); // sequences never wrap under one id
            var stamp = new BatchStamp(_producerId, _nextSequence, _nextSequence == 0 ? Task.CompletedTask : _firstUnderId);
            if (_nextSequence == 0) _firstUnderId = settled;
            _nextSequence += count;
            return stamp;
        }
    }

    /// <summary>
    /// Renumbers a batch the partition refused as out of order under an id this sender has given up: refused means
    /// not stored, so sending it under the current id cannot store it twice. False when its id is still current.
    /// </summary>
    private bool TryRestamp(ref BatchStamp stamp, int count, Task settled)
    {
        lock (_sequenceGate)
        {
            if (stamp.ProducerId == _producerId) return false;
            if (_nextSequence > int.MaxValue - count) SwitchProducerIdLocked();
            stamp = new BatchStamp(_producerId, _nextSequence, _nextSequence == 0 ? Task.CompletedTask : _firstUnderId);
            if (_nextSequence == 0) _firstUnderId = settled;
            _nextSequence += count;
            return true;
        }
    }

    /// <summary>After a batch failed for good: later batches go under a fresh id (once per failed id).</summary>
    private void AbandonProducerId(long producerId)
    {
        if (producerId == 0) return;
        lock (_sequenceGate)
        {
            if (producerId == _producerId) SwitchProducerIdLocked();
        }
    }

    private void SwitchProducerIdLocked()
    {
        _producerId = NewProducerId();
        _nextSequence = 0;
        _firstUnderId = Task.CompletedTask;
    }

    /// <summary>A random non-zero producer id: unique per producer without any coordination.</summary>
    public static long NewProducerId()
    {
        Span<byte> bytes = stackalloc byte[8];
        long id;
        do
        {
            System.Security.Cryptography.RandomNumberGenerator.Fill(bytes);
            id = BitConverter.ToInt64(bytes);
        }
        while (id == 0);
        return id;
    }

    private async Task SendAsync(PendingSend[] sends, BatchStamp stamp, Task previous, TaskCompletionSource settled, CancellationToken stopping)
    {
        // The batch encoded once, in a pooled buffer, and sent as it is on every retry under the same stamp. The buffer
        // goes back to the pool only if every call with it was answered (Orleans serializes a request asynchronously,
        // and in the same silo passes it without a copy, so after a timeout it may still be reading it, even once a
        // retry succeeded): a buffer any call left unanswered is left to the garbage collector.
        RecordBatchBuilder? encoded = null;
        ReadOnlyMemory<byte> records = default;
        BatchStamp encodedFor = default;
        bool mayBeInUse = false;
        bool unanswered = false; // some call with the current buffer ended without the partition's answer
        try
        {
            for (int attempt = 0; ;)
            {
                await stamp.SendAfter.ConfigureAwait(false);
                if (encoded is null || encodedFor.ProducerId != stamp.ProducerId || encodedFor.BaseSequence != stamp.BaseSequence)
                {
                    // First attempt, or renumbered under a new producer id (cold): encoded again.
                    if (!mayBeInUse) encoded?.Dispose();
                    encoded = null;
                    mayBeInUse = false;
                    unanswered = false;
                    encoded = Encode(sends, stamp);
                    records = encoded.Build();
                    encodedFor = stamp;
                }
                var batch = new ProduceBatch(records, sends.Length) { ProducerId = stamp.ProducerId, BaseSequence = stamp.BaseSequence, Acks = _options.Acks };
                try
                {
                    mayBeInUse = true;
                    var result = await _grain.AppendAsync(batch).ConfigureAwait(false);
                    mayBeInUse = unanswered;
                    var timestamp = DateTimeOffset.FromUnixTimeMilliseconds(result.TimestampMs);
                    for (int i = 0; i < sends.Length; i++)
                    {
                        sends[i].TrySucceed(new SendReceipt(_topic, _partition, result.Offsets?[i] ?? result.BaseOffset + i, timestamp)
                        {
                            IsDuplicate = result.Duplicates?[i] ?? false,
                        });
                    }
                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The partition answered (it threw): the request was sent and read, the buffer is free again.
                    if (e is GranaryException) mayBeInUse = unanswered;
                    else unanswered = true;
                    var error = Errors.Translate(e);
                    if (error.Code == GranaryErrorCode.OutOfOrderSequence)
                    {
                        // An earlier batch is still being retried: wait for its outcome instead of spending retries.
                        if (!previous.IsCompleted)
                        {
                            await previous.ConfigureAwait(false);
                            continue;
                        }
                        if (TryRestamp(ref stamp, sends.Length, settled.Task)) continue;
                    }
                    if (!error.IsRetriable || attempt >= _options.MaxRetries || stopping.IsCancellationRequested) throw error;
                    var delay = TimeSpan.FromMilliseconds(Math.Min(5000, 100 << Math.Min(attempt, 10)));
                    ClientLog.SendRetrying(_logger, _topic, _partition, sends.Length, error.Code, attempt + 1, _options.MaxRetries, (long)delay.TotalMilliseconds, error);
                    await Task.Delay(delay, stopping).ConfigureAwait(false);
                    attempt++;
                }
            }
        }
        catch (Exception e)
        {
            AbandonProducerId(stamp.ProducerId);
            var error = e as GranaryException ?? Errors.Translate(e);
            // Refused, not stored: the topic may have been re-created with fewer partitions since the sends were routed.
            if (error.Code is GranaryErrorCode.TopicNotFound or GranaryErrorCode.InvalidArgument && _onRefused(_partition, sends, error)) return;
            ClientLog.SendFailed(_logger, _topic, _partition, sends.Length, error.Code, error);
            foreach (var send in sends) send.TryFail(error);
        }
        finally
        {
            if (!mayBeInUse) encoded?.Dispose();
            settled.TrySetResult();
            _inFlight.Release();
        }
    }

    /// <summary>
    /// Encodes the messages of a batch as the partition stores them (see <see cref="ProduceBatchEncoder"/>): timestamps
    /// this client's clock now, which the partition replaces, so a deliver-at goes as a delay from now.
    /// </summary>
    private static RecordBatchBuilder Encode(PendingSend[] sends, BatchStamp stamp)
    {
        long bytes = RecordBatchCodec.HeaderSize;
        foreach (var send in sends) bytes += send.Size + EstimatedRecordOverhead;
        var builder = new RecordBatchBuilder((int)Math.Min(Array.MaxLength, bytes));
        try
        {
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            for (int i = 0; i < sends.Length; i++) ProduceBatchEncoder.Add(builder, sends[i].Message, now, stamp.ProducerId, stamp.BaseSequence + i);
            return builder;
        }
        catch
        {
            builder.Dispose();
            throw;
        }
    }

    // Per-record bytes beyond payload, key and headers (flags, varints, producer id and sequence), for sizing the buffer.
    private const int EstimatedRecordOverhead = 40;

    /// <summary>A batch's producer id and first sequence, and what must settle before it is sent.</summary>
    private readonly record struct BatchStamp(long ProducerId, int BaseSequence, Task? SendAfterOrNull)
    {
        public Task SendAfter => SendAfterOrNull ?? Task.CompletedTask;
    }
}
