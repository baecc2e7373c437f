using System.Diagnostics;
using System.IO.Hashing;
using System.Text;
using Granary.Client.Internal;
using Granary.Grains;

namespace Granary.Client;

/// <summary>
/// Sends messages to one topic. Thread-safe; share one per topic. Messages are batched per partition (one grain
/// call per batch) and each send completes with a <see cref="SendReceipt"/> once the message is durable. Three ways
/// to confirm: await each <see cref="SendAsync"/>; start many and await them together or call <see cref="FlushAsync"/>;
/// or <see cref="Send"/> with a callback per confirmation. With <see cref="ProducerOptions.EnableIdempotence"/> (the
/// default) a batch retried after a lost confirmation is stored once. The topic's settings are re-read every
/// <see cref="ProducerOptions.MetadataRefreshInterval"/>, so partitions added to the topic start receiving messages.
/// </summary>
public sealed class GranaryProducer : IAsyncDisposable
{
    private readonly GranaryClient _client;
    private readonly ProducerOptions _options;
    private readonly CancellationTokenSource _disposed = new();
    private readonly Lock _gate = new();
    private readonly long _producerId;
    private Task<TopicConfig>? _config;
    private long _configReadAt;
    private Task? _refreshing;
    private PartitionSender[]? _senders;
    private int _roundRobin = -1;
    private long _outstanding;
    private bool _closing;
    private TaskCompletionSource _drained = CompletedSource();
    // Built once: a send's activity name must not allocate.
    private readonly string _publishActivityName;

    internal GranaryProducer(GranaryClient client, string topic, ProducerOptions options)
    {
        Names.Validate(topic, "topic");
        options.Validate();
        _client = client;
        Topic = topic;
        _options = options;
        _producerId = options.EnableIdempotence ? PartitionSender.NewProducerId() : 0;
        _publishActivityName = $"publish {topic}";
    }

    /// <summary>The topic this producer sends to.</summary>
    public string Topic { get; }

    /// <summary>
    /// Sends a message; completes once it is stored durably. While a listener samples the <see cref="GranaryTracing"/>
    /// source, the send runs in a <c>publish {topic}</c> activity whose context goes out in the message's
    /// <see cref="GranaryHeaders.TraceParent"/> header (unless the message has one already, which is kept).
    /// </summary>
    /// <exception cref="GranaryException"><see cref="ErrorCode.TopicNotFound"/>, <see cref="ErrorCode.MessageTooLarge"/>,
    /// or a retriable code after the retries ran out.</exception>
    public async Task<SendReceipt> SendAsync(OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        // Counted from the start, so FlushAsync and DisposeAsync also wait for a send still looking up the topic.
        if (!BeginOutstanding()) throw new GranaryException(ErrorCode.Closed, $"The producer of topic '{Topic}' was disposed.");
        // Nobody listening: no activity, no header, no allocation.
        var activity = GranaryTracing.Source.HasListeners() ? GranaryTracing.StartPublish(_publishActivityName, Topic, message.MessageId) : null;
        SendReceipt? receipt = null;
        Exception? failure = null;
        try
        {
            var config = await GetConfigAsync().ConfigureAwait(false);
            byte[]? messageId = message.MessageId is null ? null : EncodeMessageId(message.MessageId);
            var wire = ToWire(message, messageId, activity);
            int size = wire.SizeInBytes();
            wire.EnsureWithinLimit(size, config.MaxMessageBytes, Topic);
            if (message.Partition >= config.Partitions) config = await RefreshConfigNowAsync().ConfigureAwait(false); // added since?
            int partition = ChoosePartition(message, wire.Key ?? messageId, config.Partitions);
            var pending = new PendingSend(wire, size);
            await Senders(config.Partitions)[partition].EnqueueAsync(pending, cancellationToken).ConfigureAwait(false);
            receipt = await pending.Completion.Task.ConfigureAwait(false);
            return receipt;
        }
        catch (Exception e) when (activity is not null)
        {
            failure = e;
            throw;
        }
        finally
        {
            EndOutstanding();
            if (activity is not null) GranaryTracing.StopPublish(activity, receipt, failure);
        }
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
                ?? new GranaryException(ErrorCode.Closed, "The send was cancelled.", task.Exception?.InnerException));
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
    /// The topic's settings: read once, then re-read in the background once they are older than the refresh interval
    /// (sends go on with the ones they have meanwhile).
    /// </summary>
    private Task<TopicConfig> GetConfigAsync()
    {
        lock (_gate)
        {
            if (_config is null || _config.IsFaulted || _config.IsCanceled)
            {
                _config = GranaryClient.CallAsync(() => _client.Topic(Topic).GetConfigAsync());
                _configReadAt = Environment.TickCount64;
            }
            else if (_config.IsCompletedSuccessfully && _refreshing is null
                && Environment.TickCount64 - _configReadAt >= (long)_options.MetadataRefreshInterval.TotalMilliseconds)
            {
                _refreshing = RefreshConfigAsync();
            }
            return _config;
        }
    }

    private async Task RefreshConfigAsync()
    {
        try
        {
            var fresh = await GranaryClient.CallAsync(() => _client.Topic(Topic).GetConfigAsync()).ConfigureAwait(false);
            lock (_gate) _config = Task.FromResult(fresh);
        }
        catch (GranaryException)
        {
            // Keep the settings we have; sends to a deleted topic fail at the partition with TopicNotFound.
        }
        finally
        {
            lock (_gate)
            {
                _configReadAt = Environment.TickCount64;
                _refreshing = null;
            }
        }
    }

    /// <summary>Re-reads the settings now (a partition the producer does not know yet was asked for).</summary>
    private async Task<TopicConfig> RefreshConfigNowAsync()
    {
        Task refreshing;
        lock (_gate) refreshing = _refreshing ??= RefreshConfigAsync();
        await refreshing.ConfigureAwait(false);
        return await GetConfigAsync().ConfigureAwait(false);
    }

    /// <summary>A partition refused a batch as unknown: re-read the settings with the next send.</summary>
    private void OnUnknownPartition()
    {
        lock (_gate) _configReadAt = long.MinValue / 2;
    }

    /// <summary>One sender per partition, grown when partitions were added to the topic.</summary>
    private PartitionSender[] Senders(int partitions)
    {
        if (Volatile.Read(ref _senders) is { } existing && existing.Length >= partitions) return existing;
        lock (_gate)
        {
            var current = _senders ?? [];
            if (current.Length >= partitions) return current;
            var grown = new PartitionSender[partitions];
            current.CopyTo(grown, 0);
            for (int p = current.Length; p < partitions; p++)
            {
                grown[p] = new PartitionSender(_client.Cluster.GetGrain<IPartitionGrain>($"{Topic}/{p}"), Topic, p, _options, _producerId,
                    OnUnknownPartition, _disposed.Token);
            }
            Volatile.Write(ref _senders, grown);
            return grown;
        }
    }

    private int ChoosePartition(OutgoingMessage message, byte[]? key, int partitions)
    {
        if (message.Partition is { } explicitPartition)
        {
            if (explicitPartition < 0 || explicitPartition >= partitions)
                throw new GranaryException(ErrorCode.InvalidArgument, $"Topic '{Topic}' has no partition {explicitPartition}.");
            return explicitPartition;
        }
        // The wire key (UTF-8, encoded once), or else the message id, so that a repeat of a message reaches the
        // partition that can recognise it.
        if (key is not null) return (int)(XxHash32.HashToUInt32(key) % (uint)partitions);
        return (int)((uint)Interlocked.Increment(ref _roundRobin) % (uint)partitions);
    }

    private static byte[] EncodeMessageId(string messageId)
    {
        if (messageId.Length == 0) throw new GranaryException(ErrorCode.InvalidArgument, "MessageId must not be empty; use null for none.");
        return Encoding.UTF8.GetBytes(messageId);
    }

    private static Message ToWire(OutgoingMessage message, byte[]? messageId, Activity? activity)
    {
        if (message.TimeToLive is { } ttl && ttl <= TimeSpan.Zero)
            throw new GranaryException(ErrorCode.InvalidArgument, $"TimeToLive must be positive; it is {ttl}.");
        if (message.Delay is { } delay && delay < TimeSpan.Zero)
            throw new GranaryException(ErrorCode.InvalidArgument, $"Delay must not be negative; it is {delay}.");
        DateTimeOffset? deliverAt = message.DeliverAt;
        if (message.Delay is { } wait && wait > TimeSpan.Zero)
        {
            var byDelay = DateTimeOffset.UtcNow + wait;
            deliverAt = deliverAt is { } at && at > byDelay ? at : byDelay;
        }
        return new Message(
            message.Key is null ? null : Encoding.UTF8.GetBytes(message.Key),
            message.Payload,
            WireHeaders(message.Headers, messageId, activity))
        {
            TimeToLiveMs = message.TimeToLive is { } t ? Math.Max(1, (long)t.TotalMilliseconds) : null,
            DeliverAtMs = deliverAt?.ToUnixTimeMilliseconds(),
        };
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

    private bool BeginOutstanding()
    {
        lock (_gate)
        {
            if (_closing) return false;
            if (_outstanding++ == 0) _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return true;
        }
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
