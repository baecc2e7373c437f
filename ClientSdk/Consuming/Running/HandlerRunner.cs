using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Granary.Grains;

namespace Granary.Client.Internal;

/// <summary>
/// Runs a handler over a consumer's messages: <see cref="HandlerOptions.MaxConcurrency"/> workers take messages from
/// one ready queue; a message whose ordering key already has one ready or running waits in that key's lane and is
/// queued when its predecessor is done, so each key runs one message at a time in arrival (offset) order.
/// </summary>
/// <remarks>
/// One reader moves messages from the consumer into the lanes, holding at most MaxConcurrency + MaxPrefetch of
/// them (the consumer's own prefetch limit does not count messages whose lease ran out). A handler that throws is
/// nacked; under the ordered modes the broker then revokes the later deliveries of its partition or key, and the
/// lane skips them (unsettled) because the nack has completed, and with it the revocation, before the lane moves on.
/// </remarks>
internal sealed class HandlerRunner : IDisposable
{
    private readonly GranaryConsumer _consumer;
    private readonly Func<ReceivedMessage, CancellationToken, Task> _handler;
    private readonly HandlerOptions _options;
    private readonly RetryDelayRule _retryDelay;
    private readonly DeliveryMode _mode;
    private readonly SemaphoreSlim _capacity;
    private readonly Channel<ReceivedMessage> _ready = Channel.CreateUnbounded<ReceivedMessage>(new UnboundedChannelOptions { SingleWriter = false });
    // Ordering keys with a message ready or running; the queue holds the ones waiting behind it (null: none yet).
    private readonly Dictionary<LaneKey, Queue<ReceivedMessage>?> _lanes = [];
    private readonly Lock _lanesLock = new();
    private ExceptionDispatchInfo? _workerFailure;
    // Built once: a message's activity name must not allocate.
    private readonly string _processActivityName;

    public HandlerRunner(GranaryConsumer consumer, Func<ReceivedMessage, CancellationToken, Task> handler, HandlerOptions options, int maxPrefetch)
    {
        _consumer = consumer;
        _handler = handler;
        _options = options;
        _retryDelay = new RetryDelayRule(options);
        _mode = consumer.Mode;
        _processActivityName = $"process {consumer.Topic}";
        _capacity = new SemaphoreSlim(options.MaxConcurrency + maxPrefetch);
    }

    /// <summary>Frees the capacity semaphore; <see cref="RunAsync"/> calls it when it ends (a runner runs once).</summary>
    public void Dispose() => _capacity.Dispose();

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled or the consumer ends; rethrows the consumer's fatal error.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var workers = new Task[_options.MaxConcurrency];
        for (int i = 0; i < workers.Length; i++) workers[i] = WorkAsync(stopping);
        ExceptionDispatchInfo? failure = null;
        try
        {
            await ReadAsync(stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            failure = ExceptionDispatchInfo.Capture(e);
        }
        // However reading ended, running handlers get a cancelled token and no new message starts. What was read
        // and not started stays leased to the consumer: disposing it gives those back at once.
        await stopping.CancelAsync().ConfigureAwait(false);
        _ready.Writer.TryComplete();
        await Task.WhenAll(workers).ConfigureAwait(false);
        Dispose();
        await FlushAcksAsync().ConfigureAwait(false);
        failure?.Throw();
        _workerFailure?.Throw();
    }

    private async Task ReadAsync(CancellationToken stopping)
    {
        // Handed to the application only when its handler starts: one read but not started when the consumer is
        // disposed goes back without counting as a delivery attempt.
        var messages = _consumer.ReadAsync(handOver: false, stopping).GetAsyncEnumerator(stopping);
        try
        {
            while (true)
            {
                await _capacity.WaitAsync(stopping).ConfigureAwait(false);
                if (!await messages.MoveNextAsync().ConfigureAwait(false)) return;
                Dispatch(messages.Current);
            }
        }
        finally
        {
            await messages.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The ordering key: the partition under Ordered; partition and key under KeyShared and Shared; none for a message
    /// without a key, except that with an idempotency store copies of one message id run one after another here (so
    /// the second sees the first one's outcome instead of <see cref="IdempotencyStatus.InProgress"/>).
    /// </summary>
    private LaneKey? LaneOf(ReceivedMessage message)
    {
        if (_mode == DeliveryMode.Ordered) return new LaneKey(message.Partition, null);
        if (message.Key is { } key) return new LaneKey(message.Partition, key);
        if (_options.IdempotencyStore is not null && message.MessageId is { } id) return new LaneKey(-1, id);
        return null;
    }

    private void Dispatch(ReceivedMessage message)
    {
        if (LaneOf(message) is { } lane)
        {
            lock (_lanesLock)
            {
                if (_lanes.TryGetValue(lane, out var waiting))
                {
                    if (waiting is null) _lanes[lane] = waiting = new Queue<ReceivedMessage>();
                    waiting.Enqueue(message);
                    return;
                }
                _lanes.Add(lane, null);
            }
        }
        _ready.Writer.TryWrite(message);
    }

    private async Task WorkAsync(CancellationTokenSource stoppingSource)
    {
        await Task.Yield(); // start the workers without running any of them on the caller's stack
        var stopping = stoppingSource.Token;
        var reader = _ready.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stopping).ConfigureAwait(false))
            {
                while (!stopping.IsCancellationRequested && reader.TryRead(out var message))
                {
                    bool failedInOrder = await ProcessAsync(message, stopping).ConfigureAwait(false);
                    _capacity.Release();
                    Advance(message, dropWaiting: failedInOrder);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // A bug here would leave a lane stuck: stop the run and report it rather than hang.
            Interlocked.CompareExchange(ref _workerFailure, ExceptionDispatchInfo.Capture(e), null);
            await stoppingSource.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Queues the next message of <paramref name="done"/>'s lane, or closes the lane.</summary>
    private void Advance(ReceivedMessage done, bool dropWaiting)
    {
        if (LaneOf(done) is not { } lane) return;
        ReceivedMessage? next = null;
        lock (_lanesLock)
        {
            var waiting = _lanes[lane];
            if (dropWaiting && waiting is { Count: > 0 })
            {
                _capacity.Release(waiting.Count);
                waiting.Clear();
            }
            if (waiting is { Count: > 0 }) next = waiting.Dequeue();
            else _lanes.Remove(lane);
        }
        if (next is not null) _ready.Writer.TryWrite(next);
    }

    /// <summary>
    /// Handles one message and settles it. Returns true when the later messages of its lane must not run: under
    /// an ordered mode it failed and its nack did not reach the broker, so their revocation is not known here, but
    /// they come again once this message's lease ends.
    /// </summary>
    private async Task<bool> ProcessAsync(ReceivedMessage message, CancellationToken stopping)
    {
        // Taken back by the broker (it comes again, in order), or given back at dispose: never run or settle it.
        if (message.IsRevoked || !message.TryHandOver()) return false;
        // Current while the handler runs, so the application's own activities nest under it.
        using var activity = GranaryTracing.StartProcess(_processActivityName, message, _consumer.Group);
        return await ProcessCoreAsync(message, activity, stopping).ConfigureAwait(false);
    }

    private async Task<bool> ProcessCoreAsync(ReceivedMessage message, Activity? activity, CancellationToken stopping)
    {
        var store = _options.IdempotencyStore;
        string? id = null;
        if (store is not null)
        {
            id = message.MessageId ?? $"{message.Topic}/{message.Partition}/{message.Offset}";
            IdempotencyStatus status;
            try
            {
                status = await store.TryBeginAsync(id, stopping).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
            {
                return await FailAsync(message, _retryDelay.DelayAfter(message.DeliveryAttempt)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false; // stopping: the message stays leased until the consumer is disposed
            }
            if (status == IdempotencyStatus.Completed)
            {
                await SettleAsync(message.AckAsync(CancellationToken.None)).ConfigureAwait(false);
                return false;
            }
            if (status == IdempotencyStatus.InProgress) return await FailAsync(message, _options.InProgressRetryDelay).ConfigureAwait(false);
        }

        try
        {
            await _handler(message, stopping).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            if (activity is not null) GranaryTracing.SetError(activity, e);
            if (id is not null) await AbandonAsync(store!, id).ConfigureAwait(false);
            // Cancelled by stopping: give it back at once rather than after the retry delay.
            var delay = e is OperationCanceledException && stopping.IsCancellationRequested ? TimeSpan.Zero : _retryDelay.DelayAfter(message.DeliveryAttempt);
            return await FailAsync(message, delay).ConfigureAwait(false);
        }

        if (id is not null)
        {
            try
            {
                await store!.CompleteAsync(id, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Not recorded: acking would let a redelivery run the handler again without anyone knowing; nack
                // instead so that it does so now, the at-least-once way.
                await AbandonAsync(store!, id).ConfigureAwait(false);
                return await FailAsync(message, _retryDelay.DelayAfter(message.DeliveryAttempt)).ConfigureAwait(false);
            }
        }
        if (!message.IsSettled) await SettleAsync(message.AckAsync(CancellationToken.None)).ConfigureAwait(false);
        return false;
    }

    /// <summary>Nacks (unless the handler settled the message itself); true when an ordered lane must drop its waiting messages.</summary>
    private async Task<bool> FailAsync(ReceivedMessage message, TimeSpan delay)
    {
        if (message.IsSettled) return false;
        bool nacked = await SettleAsync(message.NackAsync(delay)).ConfigureAwait(false);
        return !nacked && (_mode == DeliveryMode.Ordered || (_mode == DeliveryMode.KeyShared && message.Key is not null));
    }

    private static async Task AbandonAsync(IIdempotencyStore store, string id)
    {
        try
        {
            await store.AbandonAsync(id, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The claim runs out by itself; until then a redelivery is nacked as in progress.
        }
    }

    /// <summary>
    /// Handlers' acks are queued (<see cref="ReceivedMessage.AckAsync"/>), so that a handler's message costs no round
    /// trip; before the run returns they are answered, so that a returned run has every ack answered, as when each was
    /// awaited. A refused or lost one was reported through <see cref="GranaryConsumer.AckFailed"/> already, and its
    /// message comes again (at-least-once): nothing for the run to throw. The failures are left in place, so that the
    /// application's own <see cref="GranaryConsumer.FlushAcksAsync"/> after the run still throws them.
    /// </summary>
    private async Task FlushAcksAsync()
    {
        try
        {
            await _consumer.WaitForQueuedSettlementsAsync().ConfigureAwait(false);
        }
        catch (GranaryException)
        {
        }
    }

    /// <summary>
    /// Awaits an ack or nack. A failed one (the consumer was disposed, the broker unreachable) is not retried: the
    /// message comes back when its lease ends, which at-least-once delivery allows.
    /// </summary>
    private static async Task<bool> SettleAsync(Task settle)
    {
        try
        {
            await settle.ConfigureAwait(false);
            return true;
        }
        catch (GranaryException)
        {
            return false;
        }
    }

    private readonly record struct LaneKey(int Partition, string? Key);
}
