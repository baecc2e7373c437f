using System.Diagnostics;
using System.IO.Hashing;
using System.Text;
using Granary.Client.Internal;
using Granary.Grains;
using Microsoft.Extensions.Logging;

namespace Granary.Client;

/// <summary>
/// Sends messages to one topic. Thread-safe; share one per topic. Messages are batched per partition (one grain
/// call per batch) and each send completes with a <see cref="SendReceipt"/> once the message is durable. Three ways
/// to confirm: await each <see cref="SendAsync"/>; start many and await them together or call <see cref="FlushAsync"/>;
/// or <see cref="Send"/> with a callback per confirmation. With <see cref="ProducerOptions.EnableIdempotence"/> (the
/// default) a batch retried after a lost confirmation is stored once. The topic's settings are re-read every
/// <see cref="ProducerOptions.MetadataRefreshInterval"/>, so partitions added to the topic start receiving messages.
/// </summary>
public sealed class GranaryProducer : IAsyncDisposable, ISendOutcomeObserver
{
    private readonly GranaryClient _client;
    private readonly ProducerOptions _options;
    private readonly CancellationTokenSource _disposed = new();
    private readonly Lock _gate = new();
    private readonly long _producerId;
    // The topic's settings as last read (null until the first read), when that read began, and a read in progress.
    private TopicConfig? _metadata;
    private long _metadataReadAt;
    private Task<TopicConfig>? _reading;
    // Sends waiting to be routed, in call order. While any send waits (for the first settings, a partition it asked
    // for that the producer does not know yet, or a re-route), later sends queue behind it, so that no send is queued
    // to its partition before one called earlier. One drain task at a time empties it.
    private readonly Queue<PendingSend> _backlog = new();
    private bool _draining;
    private PartitionSender[]? _senders;
    // Per partition, sends routed there while its queue was full, in call order: later sends to that partition wait
    // behind them (other partitions go on). A pump task per non-empty queue moves them in as room frees.
    private Queue<PendingSend>?[] _parked = [];
    private readonly UnkeyedPartitionChooser _unkeyed;
    private long _outstanding;
    private bool _closing;
    private TaskCompletionSource _drained = CompletedSource();
    // Built once: a send's activity name must not allocate.
    private readonly string _publishActivityName;
    private readonly TagList _metricTags;

    internal GranaryProducer(GranaryClient client, string topic, ProducerOptions options)
    {
        Names.Validate(topic, "topic");
        options.Validate();
        _client = client;
        Topic = topic;
        _options = options;
        _producerId = options.EnableIdempotence ? PartitionSender.NewProducerId() : 0;
        _publishActivityName = $"publish {topic}";
        _metricTags = GranaryClientMetrics.ProducerTags(topic);
        _unkeyed = new UnkeyedPartitionChooser(options.UnkeyedPartitioning, options.StickyPartitionBytes, Random.Shared.Next(1 << 16));
    }

    /// <summary>The topic this producer sends to.</summary>
    public string Topic { get; }

    /// <summary>
    /// Sends a message; completes once it is stored durably. Sends are queued in the order of the calls (even before
    /// the producer has read the topic's settings), so same-key messages sent without awaiting each one are stored in
    /// call order. While a listener samples the <see cref="GranaryTracing"/> source, the send runs in a
    /// <c>publish {topic}</c> activity whose context goes out in the message's <see cref="GranaryHeaders.TraceParent"/>
    /// header (unless the message has one already, which is kept).
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.TopicNotFound"/>, <see cref="GranaryErrorCode.MessageTooLarge"/>,
    /// <see cref="GranaryErrorCode.InvalidArgument"/> for a message field out of range (null header value, a time to live or
    /// delay that is not positive or is longer than <see cref="OutgoingMessage.MaxTimeToLiveOrDelay"/>, an unknown partition),
    /// or a retriable code after the retries ran out. A refused message is not queued; other sends go on.</exception>
    /// <exception cref="OperationCanceledException">
    /// <paramref name="cancellationToken"/> was cancelled before the confirmation came. The token is honoured until
    /// then, but a message already queued or on its way is not taken back: it may still be written (as with
    /// Confluent.Kafka's <c>ProduceAsync</c>). <see cref="FlushAsync"/> and <see cref="DisposeAsync"/> still wait for it.
    /// </exception>
    public Task<SendReceipt> SendAsync(OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        // While a listener samples the tracing source, the send runs in its activity (an async method that stops it with
        // the outcome). Otherwise the send's own task is returned: no activity, no header, no state machine or
        // continuation per send (its outcome is counted by the PendingSend itself).
        if (GranaryTracing.Source.HasListeners()) return SendTracedAsync(message, cancellationToken);
        try
        {
            ArgumentNullException.ThrowIfNull(message);
            cancellationToken.ThrowIfCancellationRequested();
            return WaitForReceiptAsync(Start(message, activity: null, cancellationToken), cancellationToken);
        }
        catch (OperationCanceledException e)
        {
            // As an async method would: a cancelled task, not a faulted one.
            var cancelled = new TaskCompletionSource<SendReceipt>();
            cancelled.SetCanceled(e.CancellationToken);
            return cancelled.Task;
        }
        catch (Exception e)
        {
            return Task.FromException<SendReceipt>(e);
        }
    }

    /// <summary><see cref="SendAsync"/> in a <c>publish {topic}</c> activity, stopped with the send's outcome.</summary>
    private async Task<SendReceipt> SendTracedAsync(OutgoingMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        cancellationToken.ThrowIfCancellationRequested();
        var activity = GranaryTracing.StartPublish(_publishActivityName, Topic, message.MessageId);
        SendReceipt? receipt = null;
        Exception? failure = null;
        try
        {
            receipt = await WaitForReceiptAsync(Start(message, activity, cancellationToken), cancellationToken).ConfigureAwait(false);
            return receipt;
        }
        catch (Exception e) when (activity is not null)
        {
            failure = e;
            throw;
        }
        finally
        {
            if (activity is not null) GranaryTracing.StopPublish(activity, receipt, failure);
        }
    }

    /// <summary>
    /// Queues a send (synchronously: in call order) and returns its completion, which counts the send's outcome and
    /// ends it as outstanding when it settles (see <see cref="PendingSend"/>). Throws when the producer is disposed or
    /// the message is invalid (then nothing was queued).
    /// </summary>
    private Task<SendReceipt> Start(OutgoingMessage message, Activity? activity, CancellationToken cancellationToken)
    {
        // Counted from the start, so FlushAsync and DisposeAsync also wait for a send still looking up the topic.
        if (!BeginOutstanding()) throw new GranaryException(GranaryErrorCode.Closed, $"The producer of topic '{Topic}' was disposed.");
        PendingSend pending;
        try
        {
            byte[]? messageId = message.MessageId is null ? null : EncodeMessageId(message.MessageId);
            var wire = ToWire(message, messageId, activity);
            if (message.Partition is < 0)
                throw new GranaryException(GranaryErrorCode.InvalidArgument, $"Topic '{Topic}' has no partition {message.Partition}.");
            pending = new PendingSend(wire, wire.SizeInBytes(), wire.Key ?? messageId, message.Partition, cancellationToken, this);
        }
        catch
        {
            // Refused before it was queued: not counted as sent.
            EndInFlight();
            EndOutstanding();
            throw;
        }
        if (GranaryClientMetrics.Sent.Enabled) GranaryClientMetrics.Sent.Add(1, _metricTags);
        Route(pending);
        return pending.Completion.Task;
    }

    /// <summary>
    /// The send's receipt, or a cancelled wait for it: a send already queued goes on (its outcome is observed here, so
    /// a failure nobody waits for is not an unobserved task exception).
    /// </summary>
    private static Task<SendReceipt> WaitForReceiptAsync(Task<SendReceipt> completion, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled || completion.IsCompleted) return completion;
        _ = completion.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return completion.WaitAsync(cancellationToken);
    }

    /// <summary>Sends a message and calls <paramref name="onCompleted"/> with its receipt or its error, on a pool thread.</summary>
    public void Send(OutgoingMessage message, Action<SendReceipt?, GranaryException?> onCompleted)
    {
        ArgumentNullException.ThrowIfNull(onCompleted);
        _ = SendAsync(message).ContinueWith(static (task, state) =>
        {
            var callback = (Action<SendReceipt?, GranaryException?>)state!;
            if (task.IsCompletedSuccessfully) callback(task.Result, null);
            else callback(null, task.Exception?.InnerException as GranaryException
                ?? new GranaryException(GranaryErrorCode.Closed, "The send was cancelled.", task.Exception?.InnerException));
        }, onCompleted, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>Completes once every send started before the call has completed (confirmed or failed).</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate) return _drained.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Waits for the sends in progress, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_closing) return;
            _closing = true; // new sends are refused from here; the ones in progress finish
        }
        await FlushAsync().ConfigureAwait(false);
        _disposed.Cancel();
        if (_senders is { } senders) await Task.WhenAll(senders.Select(s => s.DisposeAsync().AsTask())).ConfigureAwait(false);
        _disposed.Dispose();
    }

    /// <summary>
    /// Queues a send to its partition at once when nothing is waiting to be routed before it and its partition is
    /// known (the common case: no allocation, no task); else behind the waiting ones, for the drain task.
    /// </summary>
    private void Route(PendingSend send)
    {
        lock (_gate)
        {
            if (_backlog.Count == 0 && !_draining && _metadata is { } config && Knows(config, send))
            {
                RouteLocked(send, config);
                RefreshIfDueLocked();
                return;
            }
            _backlog.Enqueue(send);
            StartDrainingLocked();
        }
    }

    /// <summary>False when the send asks for a partition beyond those <paramref name="config"/> knows (added since?).</summary>
    private static bool Knows(TopicConfig config, PendingSend send) => send.ExplicitPartition is not { } partition || partition < config.Partitions;

    /// <summary>
    /// Queues <paramref name="send"/> to its partition under <paramref name="config"/>, or completes it with its error
    /// (too large, no such partition).
    /// </summary>
    private void RouteLocked(PendingSend send, TopicConfig config)
    {
        int partition;
        try
        {
            send.Message.EnsureWithinLimit(send.MessageBytes, config.MaxMessageBytes, Topic);
            partition = ChoosePartition(send, config.Partitions);
        }
        catch (GranaryException e)
        {
            send.TryFail(e);
            return;
        }
        var sender = SendersLocked(config.Partitions)[partition];
        var parked = _parked[partition];
        if ((parked is null || parked.Count == 0) && sender.TryEnqueue(send)) return;
        // The partition's queue is full: the send waits for room behind the ones waiting there already.
        parked ??= _parked[partition] = new Queue<PendingSend>();
        parked.Enqueue(send);
        if (parked.Count == 1)
        {
            using (ExecutionContext.SuppressFlow()) _ = Task.Run(() => PumpAsync(sender, parked), CancellationToken.None);
        }
    }

    /// <summary>Moves a partition's parked sends into its queue as room frees, in order; runs while any are parked.</summary>
    private async Task PumpAsync(PartitionSender sender, Queue<PendingSend> parked)
    {
        PendingSend send;
        lock (_gate) send = parked.Peek();
        while (true)
        {
            try
            {
                await sender.EnqueueAsync(send, send.CancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException e)
            {
                send.TryCancel(e.CancellationToken);
            }
            catch (Exception e)
            {
                send.TryFail(Errors.Translate(e));
            }
            lock (_gate)
            {
                parked.Dequeue();
                // Ends in the same lock hold that empties the queue: the next send parked starts the next pump.
                if (!parked.TryPeek(out send!)) return;
            }
        }
    }

    private void StartDrainingLocked()
    {
        if (_draining) return;
        _draining = true;
        // The drain serves later sends too: it must not carry this send's publish activity or the caller's async locals.
        using (ExecutionContext.SuppressFlow()) _ = Task.Run(DrainAsync, CancellationToken.None);
    }

    /// <summary>Routes the waiting sends one by one in call order, reading the settings as needed.</summary>
    private async Task DrainAsync()
    {
        while (true)
        {
            PendingSend send;
            TopicConfig? config;
            lock (_gate)
            {
                if (!_backlog.TryPeek(out send!))
                {
                    _draining = false;
                    return;
                }
                config = _metadata;
            }
            if (config is null || !Knows(config, send))
            {
                try
                {
                    config = await ReadMetadataAsync().ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    // Every send waiting now waited for this read and fails with its error; later sends read again.
                    var error = e as GranaryException ?? Errors.Translate(e);
                    PendingSend[] failed;
                    lock (_gate)
                    {
                        failed = [.. _backlog];
                        _backlog.Clear();
                    }
                    foreach (var waiting in failed) waiting.TryFail(error);
                    continue;
                }
            }
            lock (_gate)
            {
                _backlog.Dequeue(); // only the drain task dequeues: still the one peeked at
                RouteLocked(send, config);
            }
        }
    }

    /// <summary>Reads the topic's settings, joining a read in progress.</summary>
    private Task<TopicConfig> ReadMetadataAsync()
    {
        lock (_gate)
        {
            if (_reading is { } reading) return reading;
            _metadataReadAt = Environment.TickCount64;
            var read = ReadMetadataCoreAsync();
            if (!read.IsCompleted) _reading = read;
            return read;
        }
    }

    private async Task<TopicConfig> ReadMetadataCoreAsync()
    {
        try
        {
            var config = await GranaryClient.CallAsync(() => _client.Topic(Topic).GetConfigAsync()).ConfigureAwait(false);
            lock (_gate) _metadata = config;
            return config;
        }
        finally
        {
            lock (_gate) _reading = null;
        }
    }

    /// <summary>Re-reads the settings in the background once they are older than the refresh interval (sends go on meanwhile).</summary>
    private void RefreshIfDueLocked()
    {
        if (_reading is not null || Environment.TickCount64 - _metadataReadAt < (long)_options.MetadataRefreshInterval.TotalMilliseconds) return;
        _ = RefreshInBackgroundAsync(ReadMetadataAsync());
    }

    private static async Task RefreshInBackgroundAsync(Task<TopicConfig> read)
    {
        try
        {
            await read.ConfigureAwait(false);
        }
        catch (GranaryException)
        {
            // Keep the settings we have: a send to a deleted topic fails at its partition, which re-reads them then.
        }
    }

    /// <summary>
    /// A partition refused a batch as unknown (TopicNotFound, or no such partition): the topic may have been deleted,
    /// or re-created with fewer partitions. Takes the sends over to read the settings again and route them once more.
    /// </summary>
    private bool OnPartitionRefused(int partition, PendingSend[] sends, GranaryException error)
    {
        _ = RerouteAsync(partition, sends, error);
        return true;
    }

    private async Task RerouteAsync(int partition, PendingSend[] sends, GranaryException error)
    {
        TopicConfig config;
        try
        {
            // A read of its own: one in progress may have begun before the topic changed.
            config = await GranaryClient.CallAsync(() => _client.Topic(Topic).GetConfigAsync()).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var failure = e as GranaryException ?? Errors.Translate(e); // TopicNotFound when the topic is gone
            foreach (var send in sends) send.TryFail(failure);
            return;
        }
        // The partition exists after all: it refused the batch for another reason, which stands.
        bool partitionGone = error.Code == GranaryErrorCode.TopicNotFound || partition >= config.Partitions;
        lock (_gate)
        {
            _metadata = config;
            _metadataReadAt = Environment.TickCount64;
            foreach (var send in sends)
            {
                if (!partitionGone || send.Rerouted)
                {
                    send.TryFail(error);
                    continue;
                }
                send.Rerouted = true; // once: a second refusal is the send's error
                _backlog.Enqueue(send);
            }
            if (_backlog.Count > 0) StartDrainingLocked();
        }
    }

    /// <summary>One sender per partition, grown when partitions were added to the topic.</summary>
    private PartitionSender[] SendersLocked(int partitions)
    {
        var current = _senders ?? [];
        if (current.Length >= partitions) return current;
        var grown = new PartitionSender[partitions];
        current.CopyTo(grown, 0);
        for (int p = current.Length; p < partitions; p++)
        {
            grown[p] = new PartitionSender(_client.Cluster.GetGrain<IPartitionGrain>($"{Topic}/{p}"), Topic, p, _options, _producerId,
                OnPartitionRefused, _disposed.Token, _client.LoggerFactory.CreateLogger<GranaryProducer>());
        }
        _senders = grown;
        Array.Resize(ref _parked, partitions);
        return grown;
    }

    private int ChoosePartition(PendingSend send, int partitions)
    {
        if (send.ExplicitPartition is { } explicitPartition)
        {
            if (explicitPartition >= partitions)
                throw new GranaryException(GranaryErrorCode.InvalidArgument, $"Topic '{Topic}' has no partition {explicitPartition}.");
            return explicitPartition;
        }
        // The wire key (UTF-8, encoded once), or else the message id, so that a repeat of a message reaches the
        // partition that can recognise it.
        if (send.RoutingKey is { } key) return (int)(XxHash32.HashToUInt32(key) % (uint)partitions);
        return _unkeyed.Next(send.Size, partitions); // under _gate, as RouteLocked runs
    }

    private static byte[] EncodeMessageId(string messageId)
    {
        if (messageId.Length == 0) throw new GranaryException(GranaryErrorCode.InvalidArgument, "MessageId must not be empty; use null for none.");
        return Encoding.UTF8.GetBytes(messageId);
    }

    /// <summary>The message as it goes on the wire; refuses (InvalidArgument) fields the broker could not store as meant.</summary>
    private static Message ToWire(OutgoingMessage message, byte[]? messageId, Activity? activity)
    {
        var limit = OutgoingMessage.MaxTimeToLiveOrDelay;
        if (message.TimeToLive is { } ttl && (ttl <= TimeSpan.Zero || ttl > limit))
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"TimeToLive must be positive and at most {limit.TotalDays:0} days; it is {ttl}.");
        if (message.Delay is { } delay && (delay < TimeSpan.Zero || delay > limit))
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"Delay must be between zero and {limit.TotalDays:0} days; it is {delay}.");
        DateTimeOffset? deliverAt = message.DeliverAt;
        if (deliverAt is not null || message.Delay is not null)
        {
            var now = DateTimeOffset.UtcNow;
            if (deliverAt is { } at && at > now + limit)
                throw new GranaryException(GranaryErrorCode.InvalidArgument, $"DeliverAt must be at most {limit.TotalDays:0} days from now; it is {at:O}.");
            if (message.Delay is { } wait && wait > TimeSpan.Zero)
            {
                var byDelay = now + wait;
                deliverAt = deliverAt is { } later && later > byDelay ? later : byDelay;
            }
        }
        if (message.Headers is { } headers) CheckHeaders(headers);
        return new Message(
            message.Key is null ? null : Encoding.UTF8.GetBytes(message.Key),
            message.Payload,
            WireHeaders(message.Headers, messageId, activity))
        {
            TimeToLiveMs = message.TimeToLive is { } t ? Math.Max(1, (long)t.TotalMilliseconds) : null,
            DeliverAtMs = deliverAt?.ToUnixTimeMilliseconds(),
        };
    }

    /// <summary>Every header has a name and a value (an empty array for none); and not more than the wire carries.</summary>
    private static void CheckHeaders(IReadOnlyDictionary<string, byte[]> headers)
    {
        if (headers.Count > OutgoingMessage.MaxHeaders)
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"A message carries at most {OutgoingMessage.MaxHeaders} headers; this one has {headers.Count}.");
        foreach (var header in headers)
        {
            if (header.Key is null) throw new GranaryException(GranaryErrorCode.InvalidArgument, "A header name must not be null.");
            if (header.Value is null)
                throw new GranaryException(GranaryErrorCode.InvalidArgument, $"Header '{Errors.Echo(header.Key)}' has a null value; use an empty array for none.");
        }
    }

    private static MessageHeader[]? WireHeaders(IReadOnlyDictionary<string, byte[]>? headers, byte[]? messageId, Activity? activity)
    {
        // A traceparent the sender set is its choice of context: kept, and ours not added.
        bool trace = activity is not null && headers?.ContainsKey(GranaryHeaders.TraceParent) != true;
        if (messageId is null && !trace) return headers?.Select(h => new MessageHeader(h.Key, h.Value)).ToArray();
        var wire = new List<MessageHeader>((headers?.Count ?? 0) + 3);
        if (headers is not null)
        {
            // A tracestate without its traceparent describes no context; ours replaces it.
            wire.AddRange(headers.Where(h => !(messageId is not null && h.Key == GranaryHeaders.MessageId) && !(trace && h.Key == GranaryHeaders.TraceState))
                .Select(h => new MessageHeader(h.Key, h.Value)));
        }
        if (messageId is not null) wire.Add(new MessageHeader(GranaryHeaders.MessageId, messageId));
        if (trace) GranaryTracing.AddContextHeaders(activity!, wire);
        return [.. wire];
    }

    /// <summary>
    /// A queued send has its outcome, not yet visible to its caller: counted as confirmed or failed, and no longer in
    /// flight (a caller who sees the outcome sees these counts).
    /// </summary>
    void ISendOutcomeObserver.Settling(Exception? error)
    {
        EndInFlight();
        if (error is null)
        {
            if (GranaryClientMetrics.Confirmed.Enabled) GranaryClientMetrics.Confirmed.Add(1, _metricTags);
        }
        else if (GranaryClientMetrics.Failed.Enabled)
        {
            var tags = _metricTags;
            tags.Add("error.type", error switch
            {
                GranaryException g => g.Code.ToString(),
                OperationCanceledException => "Canceled",
                _ => error.GetType().Name,
            });
            GranaryClientMetrics.Failed.Add(1, tags);
        }
    }

    /// <summary>A queued send's task is complete: no longer outstanding (a flush waiting for it sees it complete).</summary>
    void ISendOutcomeObserver.Completed() => EndOutstanding();

    private bool BeginOutstanding()
    {
        lock (_gate)
        {
            if (_closing) return false;
            if (_outstanding++ == 0) _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        if (GranaryClientMetrics.InFlight.Enabled) GranaryClientMetrics.InFlight.Add(1, _metricTags);
        return true;
    }

    private void EndInFlight()
    {
        if (GranaryClientMetrics.InFlight.Enabled) GranaryClientMetrics.InFlight.Add(-1, _metricTags);
    }

    private void EndOutstanding()
    {
        lock (_gate)
        {
            if (--_outstanding == 0) _drained.TrySetResult();
        }
    }

    private static TaskCompletionSource CompletedSource()
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        source.SetResult();
        return source;
    }
}
