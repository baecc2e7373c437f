using System.Threading.Channels;
using Granary.Client.Serialization;

namespace Granary.Client.Internal;

/// <summary>
/// Runs a batch handler over a consumer's messages: one batch at a time, of up to
/// <see cref="BatchHandlerOptions.MaxBatchSize"/> messages gathered for at most <see cref="BatchHandlerOptions.MaxBatchWait"/>
/// after the first; a handled batch is acked together (one broker call per partition), a failed one nacked together.
/// </summary>
/// <remarks>
/// Batches run one after another, so offset order within a partition is kept. A message the broker took back while
/// it waited (<see cref="ReceivedMessage.IsRevoked"/>, after a failed batch under an ordered mode) is skipped: it
/// comes again after the nacked ones. Messages read but not yet in a batch when the run stops stay leased until the
/// consumer is disposed, which gives them back unseen.
/// </remarks>
internal sealed class BatchHandlerRunner<T>(GranaryConsumer consumer, Func<IReadOnlyList<ReceivedMessage<T>>, CancellationToken, Task> handler,
    BatchHandlerOptions options, IMessageSerializer<T> serializer)
{
    private readonly RetryDelayRule _retryDelay = new(options);

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled or the consumer ends; rethrows the consumer's fatal error.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var buffer = Channel.CreateBounded<ReceivedMessage>(new BoundedChannelOptions(options.MaxBatchSize) { SingleReader = true, SingleWriter = true });
        var reading = ReadAsync(buffer.Writer, stopping);
        try
        {
            var batch = new List<ReceivedMessage>(options.MaxBatchSize);
            while (await NextBatchAsync(buffer.Reader, batch, stopping.Token).ConfigureAwait(false))
            {
                await HandleAsync(batch, stopping.Token).ConfigureAwait(false);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            await stopping.CancelAsync().ConfigureAwait(false);
        }
        await reading.ConfigureAwait(false); // rethrows the consumer's fatal error, if that is what ended the run
        try
        {
            await consumer.WaitForQueuedSettlementsAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (GranaryException)
        {
            // Reported through AckFailed already; the application's own flush still throws it.
        }
    }

    /// <summary>Moves messages from the consumer into the bounded buffer; completes the buffer when it ends.</summary>
    private async Task ReadAsync(ChannelWriter<ReceivedMessage> buffer, CancellationTokenSource stopping)
    {
        Exception? failure = null;
        try
        {
            await foreach (var message in consumer.ReadAsync(handOver: false, stopping.Token).ConfigureAwait(false))
                await buffer.WriteAsync(message, stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            failure = e;
        }
        buffer.TryComplete();
        if (failure is not null)
        {
            await stopping.CancelAsync().ConfigureAwait(false);
            throw failure;
        }
    }

    /// <summary>Waits for a first message, then gathers more until the batch is full or its wait is over; false when the buffer ended.</summary>
    private async Task<bool> NextBatchAsync(ChannelReader<ReceivedMessage> buffer, List<ReceivedMessage> batch, CancellationToken stopping)
    {
        if (!await buffer.WaitToReadAsync(stopping).ConfigureAwait(false)) return false;
        Drain(buffer, batch);
        if (batch.Count >= options.MaxBatchSize || options.MaxBatchWait == TimeSpan.Zero) return true;
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        wait.CancelAfter(options.MaxBatchWait);
        try
        {
            while (batch.Count < options.MaxBatchSize && await buffer.WaitToReadAsync(wait.Token).ConfigureAwait(false)) Drain(buffer, batch);
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested && !stopping.IsCancellationRequested)
        {
            // The batch's wait is over: handle what came.
        }
        return true;
    }

    private void Drain(ChannelReader<ReceivedMessage> buffer, List<ReceivedMessage> batch)
    {
        while (batch.Count < options.MaxBatchSize && buffer.TryRead(out var message)) batch.Add(message);
    }

    private async Task HandleAsync(List<ReceivedMessage> batch, CancellationToken stopping)
    {
        var typed = new List<ReceivedMessage<T>>(batch.Count);
        foreach (var message in batch)
        {
            // Taken back by the broker (it comes again, in order), or given back at dispose: not for the handler.
            if (message.IsRevoked || !message.TryHandOver()) continue;
            if (await TypedDelivery<T>.ReadAsync(message, serializer).ConfigureAwait(false) is { } value) typed.Add(value);
        }
        if (typed.Count == 0) return;
        var messages = typed.ConvertAll(m => m.Message);
        try
        {
            await handler(typed, stopping).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            bool stoppingNow = e is OperationCanceledException && stopping.IsCancellationRequested;
            // Cancelled by stopping: give them back at once rather than after the retry delay.
            var delay = stoppingNow ? TimeSpan.Zero : _retryDelay.DelayAfter(messages.Max(m => m.DeliveryAttempt));
            if (!stoppingNow) TypedConsumerLog.BatchFailed(consumer.Logger, consumer.Topic, messages.Count, delay, e);
            await SettleAsync(messages, GranaryConsumer.SettleKind.Nack, delay).ConfigureAwait(false);
            return;
        }
        await SettleAsync(messages, GranaryConsumer.SettleKind.Ack, TimeSpan.Zero).ConfigureAwait(false);
    }

    /// <summary>
    /// Settles the batch (those the handler left unsettled) in one call per partition. A failure is not retried: the
    /// messages not taken come back when their lease ends, which at-least-once delivery allows.
    /// </summary>
    private async Task SettleAsync(List<ReceivedMessage> messages, GranaryConsumer.SettleKind kind, TimeSpan delay)
    {
        try
        {
            await consumer.SettleTogetherAsync(messages, kind, delay).ConfigureAwait(false);
        }
        catch (GranaryException e)
        {
            TypedConsumerLog.BatchSettleFailed(consumer.Logger, consumer.Topic, messages.Count, e.Code);
        }
    }
}
