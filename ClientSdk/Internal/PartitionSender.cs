using System.Threading.Channels;
using Granary.Grains;

namespace Granary.Client.Internal;

/// <summary>
/// Batches a producer's messages for one partition: takes what is queued (waiting up to the linger time for more,
/// up to the batch size), sends it as one append, and keeps at most the configured number of batches in flight.
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

    public PartitionSender(IPartitionGrain grain, string topic, int partition, ProducerOptions options, CancellationToken stopping)
    {
        _grain = grain;
        _topic = topic;
        _partition = partition;
        _options = options;
        _queue = Channel.CreateBounded<PendingSend>(new BoundedChannelOptions(options.MaxBufferedMessages)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _inFlight = new SemaphoreSlim(options.MaxInFlightBatchesPerPartition);
        // The loop drains what is queued even while stopping, so it does not take the token.
        _loop = Task.Run(() => RunAsync(stopping), CancellationToken.None);
    }

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
            _ = SendAsync(sending, stopping);
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

    private async Task SendAsync(PendingSend[] sends, CancellationToken stopping)
    {
        try
        {
            var batch = new MessageBatch(Array.ConvertAll(sends, s => s.Message));
            for (int attempt = 0; ; attempt++)
            {
                try
                {
                    var result = await _grain.AppendAsync(batch).ConfigureAwait(false);
                    var timestamp = DateTimeOffset.FromUnixTimeMilliseconds(result.TimestampMs);
                    for (int i = 0; i < sends.Length; i++)
                        sends[i].Completion.TrySetResult(new SendReceipt(_topic, _partition, result.BaseOffset + i, timestamp));
                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    var error = Errors.Translate(e);
                    if (!error.IsRetriable || attempt >= _options.MaxRetries || stopping.IsCancellationRequested) throw error;
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 << Math.Min(attempt, 10))), stopping).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e)
        {
            var error = e as GranaryException ?? Errors.Translate(e);
            foreach (var send in sends) send.Completion.TrySetException(error);
        }
        finally
        {
            _inFlight.Release();
        }
    }
}
