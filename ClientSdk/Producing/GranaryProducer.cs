using System.IO.Hashing;
using System.Text;
using Granary.Client.Internal;
using Granary.Grains;

namespace Granary.Client;

/// <summary>
/// Sends messages to one topic. Thread-safe; share one per topic. Messages are batched per partition (one grain
/// call per batch) and each send completes with a <see cref="SendReceipt"/> once the message is durable. Three ways
/// to confirm: await each <see cref="SendAsync"/>; start many and await them together or call <see cref="FlushAsync"/>;
/// or <see cref="Send"/> with a callback per confirmation.
/// </summary>
public sealed class GranaryProducer : IAsyncDisposable
{
    private readonly GranaryClient _client;
    private readonly ProducerOptions _options;
    private readonly CancellationTokenSource _disposed = new();
    private readonly Lock _gate = new();
    private Task<TopicConfig>? _config;
    private PartitionSender[]? _senders;
    private int _roundRobin = -1;
    private long _outstanding;
    private bool _closing;
    private TaskCompletionSource _drained = CompletedSource();

    internal GranaryProducer(GranaryClient client, string topic, ProducerOptions options)
    {
        Names.Validate(topic, "topic");
        options.Validate();
        _client = client;
        Topic = topic;
        _options = options;
    }

    /// <summary>The topic this producer sends to.</summary>
    public string Topic { get; }

    /// <summary>Sends a message; completes once it is stored durably.</summary>
    /// <exception cref="GranaryException"><see cref="ErrorCode.TopicNotFound"/>, <see cref="ErrorCode.MessageTooLarge"/>,
    /// or a retriable code after the retries ran out.</exception>
    public async Task<SendReceipt> SendAsync(OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        // Counted from the start, so FlushAsync and DisposeAsync also wait for a send still looking up the topic.
        if (!BeginOutstanding()) throw new GranaryException(ErrorCode.Closed, $"The producer of topic '{Topic}' was disposed.");
        try
        {
            var config = await GetConfigAsync().ConfigureAwait(false);
            var wire = ToWire(message);
            int size = wire.SizeInBytes();
            if (size > config.MaxMessageBytes)
                throw new GranaryException(ErrorCode.MessageTooLarge, $"A message of {size} bytes exceeds the limit of {config.MaxMessageBytes} bytes of topic '{Topic}'.");
            int partition = ChoosePartition(message, wire.Key, config.Partitions);
            var pending = new PendingSend(wire, size);
            await Senders(config)[partition].EnqueueAsync(pending, cancellationToken).ConfigureAwait(false);
            return await pending.Completion.Task.ConfigureAwait(false);
        }
        finally
        {
            EndOutstanding();
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

    private Task<TopicConfig> GetConfigAsync()
    {
        lock (_gate)
        {
            if (_config is null || _config.IsFaulted || _config.IsCanceled)
                _config = GranaryClient.CallAsync(() => _client.Topic(Topic).GetConfigAsync());
            return _config;
        }
    }

    private PartitionSender[] Senders(TopicConfig config)
    {
        if (_senders is { } existing) return existing;
        lock (_gate)
        {
            return _senders ??= Enumerable.Range(0, config.Partitions)
                .Select(p => new PartitionSender(_client.Cluster.GetGrain<IPartitionGrain>($"{Topic}/{p}"), Topic, p, _options, _disposed.Token))
                .ToArray();
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
        if (key is not null) return (int)(XxHash32.HashToUInt32(key) % (uint)partitions); // the wire key: UTF-8 once
        return (int)((uint)Interlocked.Increment(ref _roundRobin) % (uint)partitions);
    }

    private static Message ToWire(OutgoingMessage message)
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
            message.Headers is null ? null : message.Headers.Select(h => new MessageHeader(h.Key, h.Value)).ToArray())
        {
            TimeToLiveMs = message.TimeToLive is { } t ? Math.Max(1, (long)t.TotalMilliseconds) : null,
            DeliverAtMs = deliverAt?.ToUnixTimeMilliseconds(),
        };
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
