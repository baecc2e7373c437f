using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using System.Threading.RateLimiting;
using Granary.Client.Internal;
using Granary.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Granary.Client;

/// <summary>
/// A member of a consumer group. Every group receives every message of its topic; within a group each message goes
/// to one member at a time. The consumer pulls from every partition, holds at most <see cref="ConsumerOptions.MaxPrefetch"/>
/// unacknowledged messages, sends acks in batches, heartbeats, and leaves the group when disposed: what it had not
/// acknowledged goes to the other members at once.
/// </summary>
/// <remarks>
/// Acks queued with <see cref="ReceivedMessage.AckAsync"/> are sent in the background; <see cref="FlushAcksAsync"/>
/// waits until the broker has answered them, and <see cref="AckFailed"/> reports those it refused.
/// </remarks>
public sealed class GranaryConsumer : IAsyncDisposable
{
    private readonly GranaryClient _client;
    private readonly ConsumerOptions _options;
    private readonly Channel<ReceivedMessage> _messages = Channel.CreateUnbounded<ReceivedMessage>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly Channel<Settlement> _settlements = Channel.CreateUnbounded<Settlement>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<ReceivedMessage, byte> _unsettled = new();
    // One share of the prefetch per partition: a pull that long-polls an idle partition must not hold credits that a
    // busy partition needs (with one shared pool, idle loops re-grabbed them and starved the busy one for seconds).
    private volatile SemaphoreSlim[] _credits = [];
    // Revocations (partition, offset, lease) whose message had not reached this consumer yet: it is dropped on arrival.
    private readonly ConcurrentDictionary<(int Partition, long Offset, long LeaseId), DateTime> _revokedUnseen = new();
    private readonly TokenBucketRateLimiter? _limiter;
    private readonly int _limiterBurst;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private Task? _running;
    private Task? _settling;
    private int _partitions;
    private readonly ILogger _logger;
    private readonly System.Diagnostics.TagList _metricTags;
    // Queued acks that failed since a flush last reported them: the next FlushAcksAsync that waits to the end throws them.
    private readonly UnreportedAckFailures _unreported = new();
    private long _failedAcks;
    // AckFailed handlers run one after another on the thread pool, off the settle loop: a handler that waits for the
    // consumer's acks (a flush, AckConfirmedAsync) must not stop the loop that sends them.
    private readonly Lock _eventsGate = new();
    private Task _events = Task.CompletedTask;

    internal GranaryConsumer(GranaryClient client, string topic, string group, ConsumerOptions options)
    {
        Names.Validate(topic, "topic");
        Names.Validate(group, "group");
        options.Validate();
        _client = client;
        Topic = topic;
        Group = group;
        _options = options;
        _logger = client.LoggerFactory.CreateLogger<GranaryConsumer>();
        _metricTags = GranaryClientMetrics.ConsumerTags(topic, group);
        if (options.MaxMessagesPerSecond is { } rate) (_limiter, _limiterBurst) = CreateLimiter(rate);
    }

    /// <summary>
    /// A token bucket refilled in steps small enough to hold the rate within a few percent: one token every 1/rate
    /// seconds up to 100 per second, then ceil(rate / 100) tokens every 10 ms or so.
    /// </summary>
    private static (TokenBucketRateLimiter Limiter, int Burst) CreateLimiter(double rate)
    {
        int perPeriod = (int)Math.Max(1, Math.Ceiling(rate / 100));
        return (new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = perPeriod,
            TokensPerPeriod = perPeriod,
            ReplenishmentPeriod = TimeSpan.FromSeconds(perPeriod / rate),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        }), perPeriod);
    }

    /// <summary>The delivery mode this consumer asked for.</summary>
    internal DeliveryMode Mode => _options.Mode;

    /// <summary>The topic.</summary>
    public string Topic { get; }

    /// <summary>The consumer group.</summary>
    public string Group { get; }

    /// <summary>
    /// This member's id in the group. A consumer that the group dropped (missed heartbeats) joins again under a new
    /// id, so that nothing still addressed to the old one can reach it.
    /// </summary>
    public string MemberId => Volatile.Read(ref _memberId);

    private string _memberId = NewMemberId();
    private readonly SemaphoreSlim _rejoining = new(1, 1);
    // Stops the pull and heartbeat loops: on dispose, or when a fatal error ends the consumer.
    private readonly CancellationTokenSource _halt = new();

    private static string NewMemberId() => Guid.NewGuid().ToString("N");

    private IConsumerGroupGrain GroupGrain => _client.Cluster.GetGrain<IConsumerGroupGrain>($"{Topic}/{Group}");

    private IPartitionCursorGrain Cursor(int partition) => _client.Cluster.GetGrain<IPartitionCursorGrain>($"{Topic}/{Group}/{partition}");

    /// <summary>
    /// Joins the group (if not yet) and yields messages as they arrive, until cancelled. Several readers may share
    /// one consumer.
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.TopicNotFound"/> when the topic does not exist or is deleted.</exception>
    public IAsyncEnumerable<ReceivedMessage> ReadAllAsync(CancellationToken cancellationToken = default) => ReadAsync(handOver: true, cancellationToken);

    /// <summary>
    /// Messages as they arrive. With <paramref name="handOver"/> each one yielded counts as handed to the application
    /// (a handler runner marks it when its handler starts instead): only those count as delivered when the consumer
    /// is disposed; the others go back without using up a delivery attempt.
    /// </summary>
    internal async IAsyncEnumerable<ReceivedMessage> ReadAsync(bool handOver, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var message in _messages.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            // Taken back by the broker (it comes again, in order), or given back at dispose: not for the application.
            if (message.IsRevoked || (handOver && !message.TryHandOver())) continue;
            yield return message;
        }
    }

    /// <summary>Joins the group and starts pulling; <see cref="ReadAllAsync"/> does this on first use.</summary>
    /// <param name="cancellationToken">
    /// Stops waiting for the join (which goes on: a later <see cref="StartAsync"/> or read waits for the same join).
    /// </param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
        Task running;
        lock (_gate)
        {
            _settling ??= SettleLoopAsync();
            // A join that failed for a cause that passes (the silo holding the group died under the call, a timeout, a
            // full disk) is made again by the next start or read; kept, it would fail every later one at once and the
            // consumer would never receive again, though nothing is wrong with it.
            if (_running is { IsFaulted: true } failed && failed.Exception?.InnerException is GranaryException { IsRetriable: true })
                _running = null;
            running = _running ??= JoinAndPullAsync();
        }
        return running.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// How many acks queued with <see cref="ReceivedMessage.AckAsync"/> on this consumer failed so far: refused by the
    /// broker, or not delivered because the call failed. Each also raised <see cref="AckFailed"/>.
    /// </summary>
    public long FailedAcks => Interlocked.Read(ref _failedAcks);

    /// <summary>
    /// Raised once for each ack queued with <see cref="ReceivedMessage.AckAsync"/> that the broker refused
    /// (<see cref="GranaryErrorCode.StaleDelivery"/>) or whose call kept failing (after its retries; the ack is lost). Raised
    /// on the thread pool, one failure at a time in the order they happened, never on the task that sends acks: a
    /// handler may wait for the consumer's acks (<see cref="FlushAcksAsync"/>) without stopping them, though a slow
    /// handler delays the events after it. An exception a handler throws is logged and ignored. Acks made with
    /// <see cref="ReceivedMessage.AckConfirmedAsync"/> report to their own task instead.
    /// </summary>
    public event EventHandler<AckFailedEventArgs>? AckFailed;

    /// <summary>
    /// Waits until the broker has answered every ack, nack and reject queued on this consumer before the call (the
    /// wait-for-the-broker point, like Confluent's <c>Commit</c> after <c>StoreOffset</c>). When it returns without
    /// throwing, the broker took every ack queued before it: a crash of this process no longer brings their messages
    /// back (the silo saves acknowledgements at most every 100 ms, so a silo crash right after still can).
    /// </summary>
    /// <remarks>
    /// An ack call that fails (silo unreachable, timeout) is sent again a few times with backoff (about 3 s in all)
    /// before the ack counts as failed, so a short outage costs no redelivery. A failed ack is not sent again after
    /// that: retrying the flush does not resend it, which is why the flush then throws a code that is not retriable.
    /// </remarks>
    /// <param name="cancellationToken">
    /// Stops waiting; the acks are still sent, and failures stay for the next flush (a cancelled flush reports nothing).
    /// </param>
    /// <exception cref="GranaryException">
    /// <see cref="GranaryErrorCode.StaleDelivery"/> (not retriable) when one or more acks queued with
    /// <see cref="ReceivedMessage.AckAsync"/> were not taken and no earlier flush reported them: refused by the broker
    /// (the message was delivered again since) or lost after their call kept failing. The text counts them per cause
    /// and names up to ten (partition/offset, attempt, code); each also raised <see cref="AckFailed"/>; their messages
    /// are handled again. <see cref="GranaryErrorCode.Closed"/> after <see cref="DisposeAsync"/> (which sent every queued ack).
    /// </exception>
    public async Task FlushAcksAsync(CancellationToken cancellationToken = default)
    {
        await WaitForQueuedSettlementsAsync(cancellationToken).ConfigureAwait(false);
        if (_unreported.TakeReport(Topic, Group) is { } report) throw report;
    }

    /// <summary>
    /// Waits until everything queued before the call is answered, without taking the failures (those stay for the
    /// application's own <see cref="FlushAcksAsync"/>).
    /// </summary>
    internal async Task WaitForQueuedSettlementsAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _settling) is null) return; // never started: no message was delivered, nothing is queued
        var flush = Settlement.Flush();
        if (!_settlements.Writer.TryWrite(flush))
            throw new GranaryException(GranaryErrorCode.Closed, "The consumer was disposed; it sent its queued acks then.");
        // The marker only ever succeeds: nothing is left faulted and unobserved when the wait is cancelled.
        await flush.Completion!.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads this consumer's messages and runs <paramref name="handler"/> on them, up to
    /// <see cref="HandlerOptions.MaxConcurrency"/> at once, keeping order per ordering key: messages of one partition
    /// (<see cref="DeliveryMode.Ordered"/>) or of one partition and key (<see cref="DeliveryMode.KeyShared"/>,
    /// <see cref="DeliveryMode.Shared"/>) run one after another in offset order; messages without a key run freely.
    /// A handler that returns has its message acked; one that throws has it nacked with
    /// <see cref="HandlerOptions.RetryDelay"/> (under the ordered modes the later messages of its partition or key
    /// are then revoked by the broker, skipped here, and come again after it). A handler may settle the message
    /// itself (e.g. <see cref="ReceivedMessage.RejectAsync"/> for a poison message); the runner then leaves it.
    /// </summary>
    /// <remarks>
    /// Returns when <paramref name="cancellationToken"/> is cancelled: running handlers see the token and are
    /// awaited (one that completes normally is acked), the acks are sent and answered (when it returns the broker has
    /// answered every ack of its handlers; refusals raised <see cref="AckFailed"/> and are not thrown by the run: the
    /// application's next <see cref="FlushAcksAsync"/> throws them), and messages read but not started stay
    /// leased until this consumer is disposed (which gives them back at once) or their <see cref="ConsumerOptions.AckTimeout"/> passes.
    /// It holds at most <see cref="HandlerOptions.MaxConcurrency"/> + <see cref="ConsumerOptions.MaxPrefetch"/>
    /// messages. One call at a time per consumer.
    /// </remarks>
    /// <exception cref="GranaryException">The consumer's fatal error (for example <see cref="GranaryErrorCode.TopicNotFound"/>).</exception>
    public Task RunAsync(Func<ReceivedMessage, CancellationToken, Task> handler, HandlerOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        options = options?.Clone() ?? new HandlerOptions();
        options.Validate();
        return new HandlerRunner(this, handler, options, _options.MaxPrefetch).RunAsync(cancellationToken);
    }

    /// <summary>
    /// Stops pulling, sends the acks, nacks and rejects already queued, also those of
    /// <see cref="ReceivedMessage.AckAsync"/> (and waits for the broker's answers, up to 30 s; refusals raise
    /// <see cref="AckFailed"/>), gives back the prefetched messages the application never saw (they do not count as
    /// delivery attempts), then leaves the group: unacknowledged messages go to the other members at once.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested) return;
        _stopping.Cancel();
        _halt.Cancel();
        _settlements.Writer.TryComplete();
        if (_running is not null)
        {
            await _running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            // The queued settlements go first: leaving first would give acked messages to other members (and an ack
            // arriving after the message went to another member is refused as stale).
            if (_settling is not null)
                await _settling.WaitAsync(SettleOnDisposeTimeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            Task events;
            lock (_eventsGate) events = _events;
            await events.WaitAsync(EventsOnDisposeTimeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await ReleaseUnseenAsync().ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            try
            {
                await GroupGrain.LeaveAsync(MemberId).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Leaving is a courtesy: the session timeout and the leases end the membership anyway.
            }
        }
        _messages.Writer.TryComplete();
        _limiter?.Dispose();
        _stopping.Dispose();
        _halt.Dispose();
        _rejoining.Dispose();
    }

    /// <summary>
    /// Gives back the prefetched messages the application never saw, so that they do not count as delivery attempts
    /// (leaving the group then gives back the rest, which do count). Best effort: if this fails, leaving returns them.
    /// </summary>
    private async Task ReleaseUnseenAsync()
    {
        string member = MemberId;
        var unseen = _unsettled.Keys.Where(m => !m.IsRevoked && !m.IsSettled && m.MemberId == member && m.TryReleaseUnseen())
            .ToLookup(m => m.Partition);
        // Every partition, also those with nothing unseen: the call also stops a pull of this member waiting there.
        await Task.WhenAll(Enumerable.Range(0, _partitions).Select(p =>
            Cursor(p).ReleaseUnseenAsync(member, [.. unseen[p].Select(m => m.Lease)]).WaitAsync(TimeSpan.FromSeconds(10)))).ConfigureAwait(false);
    }

    /// <summary>Longest <see cref="DisposeAsync"/> waits for queued settlements to reach the broker before leaving.</summary>
    private static readonly TimeSpan SettleOnDisposeTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Longest <see cref="DisposeAsync"/> waits for <see cref="AckFailed"/> handlers of the last failures.</summary>
    private static readonly TimeSpan EventsOnDisposeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Queues an ack, nack or reject. A <paramref name="confirmed"/> one completes with the broker's answer; the others
    /// (<see cref="ReceivedMessage.AckAsync"/>) complete once queued and report a failure through <see cref="AckFailed"/>.
    /// </summary>
    internal Task SettleAsync(ReceivedMessage message, SettleKind kind, bool confirmed, TimeSpan delay = default)
    {
        var settlement = new Settlement(message, kind, delay, confirmed);
        if (!_settlements.Writer.TryWrite(settlement))
        {
            var closed = Task.FromException(new GranaryException(GranaryErrorCode.Closed,
                $"The consumer of topic '{Topic}', group '{Group}' was disposed; message {message.Partition}/{message.Offset} will be redelivered."));
            // A queued ack is often not awaited (`_ = message.AckAsync()`): its Closed must not surface as an
            // unobserved task exception. A caller that awaits still gets it.
            if (!confirmed) _ = closed.Exception;
            return closed;
        }
        return settlement.Completion?.Task ?? Task.CompletedTask;
    }

    private async Task JoinAndPullAsync()
    {
        var joined = await GranaryClient.CallAsync(() => GroupGrain.JoinAsync(MemberId, _options.ToGroupSettings())).ConfigureAwait(false);
        ClientLog.Joined(_logger, Topic, Group, MemberId, joined.Partitions);
        var loops = new List<Task> { _settling!, HeartbeatLoopAsync(), ReclaimExpiredLeasesLoopAsync() };
        loops.AddRange(AddPartitions(joined.Partitions));
        // Loops for partitions added later are not awaited here: they stop with the consumer like the others.
        _ = Task.WhenAll(loops).ContinueWith(t => _messages.Writer.TryComplete(t.Exception?.InnerException), TaskScheduler.Default);
    }

    /// <summary>
    /// Starts pulling from partitions up to <paramref name="partitions"/> (the topic may have grown). Each gets an even
    /// share of the prefetch as counted at the time; existing partitions keep theirs.
    /// </summary>
    private List<Task> AddPartitions(int partitions)
    {
        lock (_gate)
        {
            if (partitions <= _partitions) return [];
            int share = _options.MaxPrefetch / partitions, extra = _options.MaxPrefetch % partitions;
            var credits = new SemaphoreSlim[partitions];
            Array.Copy(_credits, credits, _partitions);
            for (int p = _partitions; p < partitions; p++) credits[p] = new SemaphoreSlim(Math.Max(1, share + (p < extra ? 1 : 0)));
            _credits = credits;
            var loops = Enumerable.Range(_partitions, partitions - _partitions).Select(p => FailOnErrorAsync(PullLoopAsync(p))).ToList();
            _partitions = partitions;
            return loops;
        }
    }

    private async Task PullLoopAsync(int partition)
    {
        var stopping = _halt.Token;
        var cursor = Cursor(partition);
        var credits = _credits[partition];
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await credits.WaitAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            int taken = 1;
            while (credits.Wait(0)) taken++;
            if (_limiter is not null)
            {
                int wanted = Math.Min(taken, _limiterBurst);
                try
                {
                    using var permits = await _limiter.AcquireAsync(wanted, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                if (taken > wanted) credits.Release(taken - wanted);
                taken = wanted;
            }
            List<(Granary.Records.StoredRecord Record, LeasedRecord Lease)> deliveries;
            string member = MemberId;
            try
            {
                var pulled = await cursor.PullRunsAsync(member, taken, _options.AckTimeout, _client.LongPollLimit(_options.PollWait)).ConfigureAwait(false);
                // One buffer per pull; messages are views over it. A malformed answer fails the consumer with
                // CorruptData like damaged data does (its leases run out and the messages go to other members),
                // never a crash or a misread message.
                deliveries = PulledRecords.Read(pulled);
                backoff = TimeSpan.FromMilliseconds(100);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                credits.Release(taken);
                var error = Errors.Translate(e);
                if (Errors.IsFatal(error))
                {
                    Fail(error);
                    return;
                }
                if (error.Code == GranaryErrorCode.NotAMember)
                {
                    await RejoinAsync(MemberId).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    continue;
                }
                ClientLog.PullRetrying(_logger, Topic, Group, partition, error.Code, (long)backoff.TotalMilliseconds);
                try
                {
                    await Task.Delay(backoff, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
                continue;
            }
            if (taken > deliveries.Count) credits.Release(taken - deliveries.Count);
            var leaseEnd = DateTimeOffset.UtcNow + _options.AckTimeout;
            foreach (var (record, lease) in deliveries)
            {
                if (_revokedUnseen.TryRemove((partition, lease.Offset, lease.LeaseId), out _))
                {
                    credits.Release();
                    continue;
                }
                var message = new ReceivedMessage(this, member, partition, record, lease, leaseEnd);
                _unsettled[message] = 0;
                GranaryClientMetrics.Received.Add(1, _metricTags);
                GranaryClientMetrics.PrefetchFill.Add(1, _metricTags);
                _messages.Writer.TryWrite(message);
            }
        }
    }

    /// <summary>Most acks, nacks and rejects one pass of the settle loop sends (over all partitions).</summary>
    private const int MaxSettleBatch = 4096;

    /// <summary>
    /// Sends queued acks and nacks in batches: whatever was queued while the previous batch was on its way goes out
    /// together, one call per partition, member and kind, partitions at the same time and the calls of one partition in
    /// queue order (see <see cref="SendAsync"/>). Each call names the
    /// deliveries it answers; those the broker refuses as stale fail with <see cref="GranaryErrorCode.StaleDelivery"/>. A
    /// flush completes once everything queued before it is answered (the loop works in queue order).
    /// </summary>
    private async Task SettleLoopAsync()
    {
        var reader = _settlements.Reader;
        var batch = new List<Settlement>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxSettleBatch && reader.TryRead(out var settlement))
            {
                if (settlement.Together is { } together)
                {
                    batch.AddRange(together); // one pass, so one call per partition (SettleTogetherAsync)
                }
                else if (settlement.Message is null)
                {
                    await SendAsync(batch).ConfigureAwait(false);
                    batch.Clear();
                    settlement.Completion!.TrySetResult();
                }
                else
                {
                    batch.Add(settlement);
                }
            }
            await SendAsync(batch).ConfigureAwait(false);
            batch.Clear();
        }
    }

    /// <summary>
    /// Partitions go out at the same time; within a partition the calls go one after another, in the order their
    /// first settlement was queued, so a nack never overtakes an ack queued before it (under the ordered modes it
    /// would take back the acked message, which then comes again and its ack is refused). Acks of one call may
    /// include some queued after a nack of a later call: those are acks the application made, taken first.
    /// </summary>
    private Task SendAsync(List<Settlement> batch) => batch.Count switch
    {
        0 => Task.CompletedTask,
        _ => Task.WhenAll(batch.GroupBy(s => s.Message!.Partition).Select(SendPartitionAsync)),
    };

    private async Task SendPartitionAsync(IGrouping<int, Settlement> settlements)
    {
        foreach (var call in settlements.GroupBy(s => (s.Message!.MemberId, s.Kind, s.Delay)))
            await SendGroupAsync(settlements.Key, call.Key.MemberId, call.Key.Kind, call.Key.Delay, [.. call]).ConfigureAwait(false);
    }

    /// <summary>
    /// Pauses before an ack call is sent again after it failed with a retriable error (about 3 s in all). Acks only:
    /// taking an ack twice is harmless (a done message's ack is taken again), a nack or reject is not repeatable and
    /// its caller gets the error.
    /// </summary>
    private static readonly TimeSpan[] AckRetryDelays = [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(800), TimeSpan.FromMilliseconds(1600)];

    private static async Task<LeaseRef[]> AckWithRetriesAsync(IPartitionCursorGrain cursor, string member, LeaseRef[] deliveries)
    {
        // As runs: the acks of a pull are one run, and the cursor keeps no object per delivery for them.
        var runs = LeaseRun.From(deliveries);
        for (int retry = 0; ; retry++)
        {
            try
            {
                return await cursor.AckRunsAsync(member, runs).ConfigureAwait(false);
            }
            catch (Exception e) when (retry < AckRetryDelays.Length && Errors.Translate(e).IsRetriable)
            {
                await Task.Delay(AckRetryDelays[retry]).ConfigureAwait(false);
            }
        }
    }

    /// <summary>One broker call for settlements of one partition, member and kind; never throws (failures go to the settlements).</summary>
    private async Task SendGroupAsync(int partition, string member, SettleKind kind, TimeSpan delay, Settlement[] items)
    {
        LeaseRef[] deliveries = Array.ConvertAll(items, s => s.Message!.Lease);
        try
        {
            var cursor = Cursor(partition);
            LeaseRef[] refused;
            switch (kind)
            {
                case SettleKind.Ack:
                    refused = await AckWithRetriesAsync(cursor, member, deliveries).ConfigureAwait(false);
                    break;
                case SettleKind.Nack:
                    var nacked = await cursor.NackAsync(member, deliveries, delay).ConfigureAwait(false);
                    Revoke(partition, nacked.Revoked);
                    refused = nacked.Refused;
                    break;
                case SettleKind.RejectDeserialization:
                    refused = await cursor.RejectWithReasonAsync(member, deliveries, GranaryHeaders.Reasons.Deserialization).ConfigureAwait(false);
                    break;
                default:
                    refused = await cursor.RejectAsync(member, deliveries).ConfigureAwait(false);
                    break;
            }
            var stale = refused.Length == 0 ? null : refused.ToHashSet();
            if (kind == SettleKind.Ack) GranaryClientMetrics.Acked.Add(items.Length - refused.Length, _metricTags);
            foreach (var item in items) Complete(item, stale?.Contains(item.Message!.Lease) == true ? Stale(item) : null);
        }
        catch (Exception e)
        {
            var error = Errors.Translate(e);
            foreach (var item in items) Complete(item, error);
        }
        foreach (var item in items) ReturnCredit(item.Message!);
    }

    /// <summary>Completes a confirmed settlement with the broker's answer; reports a failed queued ack.</summary>
    private void Complete(Settlement item, GranaryException? error)
    {
        if (item.Completion is { } completion)
        {
            if (error is null) completion.TrySetResult();
            else completion.TrySetException(error);
            return;
        }
        if (error is null) return;
        var message = item.Message!;
        _unreported.Add(new UnreportedAckFailures.AckFailure(message.Partition, message.Offset, message.DeliveryAttempt, error.Code), error);
        Interlocked.Increment(ref _failedAcks);
        ConsumerLog.AckFailed(_logger, Topic, Group, message.Partition, message.Offset, message.DeliveryAttempt, error.Code, error);
        if (AckFailed is null) return;
        var args = new AckFailedEventArgs(message, error);
        lock (_eventsGate) _events = _events.ContinueWith((_, state) => RaiseAckFailed((AckFailedEventArgs)state!), args,
            CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    private void RaiseAckFailed(AckFailedEventArgs args)
    {
        try
        {
            AckFailed?.Invoke(this, args);
        }
        catch (Exception e)
        {
            ConsumerLog.AckFailedHandlerThrew(_logger, Topic, Group, e);
        }
    }

    private GranaryException Stale(Settlement settlement)
    {
        var message = settlement.Message!;
        string what = settlement.Kind switch { SettleKind.Ack => "ack", SettleKind.Nack => "nack", _ => "reject" };
        return new GranaryException(GranaryErrorCode.StaleDelivery,
            $"The {what} of message {message.Partition}/{message.Offset} of topic '{Topic}' (delivery attempt {message.DeliveryAttempt}) " +
            "was refused: that delivery's lease had ended and the message was delivered again since. Nothing changed.");
    }

    private async Task HeartbeatLoopAsync()
    {
        var stopping = _halt.Token;
        using var timer = new PeriodicTimer(_options.HeartbeatInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                try
                {
                    string member = MemberId;
                    var beat = await GroupGrain.HeartbeatAsync(member).ConfigureAwait(false);
                    if (!beat.IsMember) await RejoinAsync(member).ConfigureAwait(false);
                    if (beat.Partitions > _partitions)
                    {
                        ClientLog.PartitionsAdded(_logger, Topic, Group, beat.Partitions);
                        _ = Task.WhenAll(AddPartitions(beat.Partitions));
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    var error = Errors.Translate(e);
                    if (Errors.IsFatal(error))
                    {
                        Fail(error);
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Joins again under a new id, once, however many loops noticed that <paramref name="staleMember"/> was dropped.</summary>
    private async Task RejoinAsync(string staleMember)
    {
        await _rejoining.WaitAsync(_halt.Token).ConfigureAwait(false);
        try
        {
            if (MemberId != staleMember) return; // another loop rejoined already
            string fresh = NewMemberId();
            await GroupGrain.JoinAsync(fresh, _options.ToGroupSettings()).ConfigureAwait(false);
            Volatile.Write(ref _memberId, fresh);
            ClientLog.Rejoined(_logger, Topic, Group, staleMember, fresh);
        }
        finally
        {
            _rejoining.Release();
        }
    }

    /// <summary>A loop that fails unexpectedly ends the consumer with its error, rather than leaving a partition unread.</summary>
    private async Task FailOnErrorAsync(Task loop)
    {
        try
        {
            await loop.ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Fail(Errors.Translate(e));
        }
    }

    /// <summary>Ends the consumer on an error retrying cannot fix: readers get it, and its leases go to the others.</summary>
    private void Fail(GranaryException error)
    {
        if (!_halt.IsCancellationRequested) ClientLog.ConsumerFailed(_logger, Topic, Group, error.Code, error);
        _messages.Writer.TryComplete(error);
        _halt.Cancel();
        _ = GroupGrain.LeaveAsync(MemberId);
    }

    /// <summary>A message whose lease ran out is the broker's again: its prefetch slot is freed for new messages.</summary>
    private async Task ReclaimExpiredLeasesLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(_halt.Token).ConfigureAwait(false))
            {
                var now = DateTimeOffset.UtcNow;
                foreach (var message in _unsettled.Keys)
                {
                    if (message.LeaseExpiresAt <= now) ReturnCredit(message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void ReturnCredit(ReceivedMessage message)
    {
        if (!_unsettled.TryRemove(message, out _)) return;
        GranaryClientMetrics.PrefetchFill.Add(-1, _metricTags);
        _credits[message.Partition].Release();
    }

    /// <summary>
    /// The broker took these deliveries back (a nack under an ordered mode): the copies here are dropped, unsettled,
    /// and the messages come again after the nacked one. A delivery still on its way is dropped when it arrives.
    /// </summary>
    private void Revoke(int partition, LeaseRef[] revoked)
    {
        if (revoked.Length == 0) return;
        var wanted = revoked.ToHashSet();
        foreach (var message in _unsettled.Keys)
        {
            if (message.Partition == partition && wanted.Remove(message.Lease))
            {
                message.MarkRevoked();
                ReturnCredit(message);
            }
        }
        var now = DateTime.UtcNow;
        foreach (var lease in wanted) _revokedUnseen[(partition, lease.Offset, lease.LeaseId)] = now;
        foreach (var stale in _revokedUnseen.Where(r => now - r.Value > TimeSpan.FromMinutes(1)).Select(r => r.Key).ToList()) _revokedUnseen.TryRemove(stale, out _);
    }

    /// <summary>Extends this member's lease of <paramref name="message"/>; false when the broker no longer leases it to us.</summary>
    internal async Task<bool> ExtendLeaseAsync(ReceivedMessage message, TimeSpan lease, CancellationToken cancellationToken)
    {
        var extended = await GranaryClient.CallAsync(() => Cursor(message.Partition).ExtendAsync(message.MemberId, [message.Lease], lease), cancellationToken).ConfigureAwait(false);
        return extended.Length == 1;
    }

    /// <summary>
    /// Acknowledges <paramref name="messages"/> together: the consumer sends them in one broker call per partition,
    /// and the task completes once the broker has answered them all. Messages settled already (acked, nacked or
    /// rejected one by one) are left out. The batch form of <see cref="ReceivedMessage.AckConfirmedAsync"/>.
    /// </summary>
    /// <param name="messages">Messages of this consumer.</param>
    /// <param name="cancellationToken">Stops waiting for the answers; the acks are still sent.</param>
    /// <exception cref="GranaryException">
    /// The first failure when some were not taken (<see cref="GranaryErrorCode.StaleDelivery"/>: delivered again since their
    /// lease ended; <see cref="GranaryErrorCode.Closed"/>: the consumer was disposed first; a retriable code when the call
    /// failed); the others were taken. Messages not taken come again.
    /// </exception>
    public Task AckAsync(IReadOnlyCollection<ReceivedMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var settled = SettleTogetherAsync(messages, SettleKind.Ack, TimeSpan.Zero);
        if (!cancellationToken.CanBeCanceled) return settled;
        _ = settled.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return settled.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Settles <paramref name="messages"/> (those not settled yet) in one pass of the settle loop, so one broker call
    /// per partition; completes when every one is answered, faulted with the first failure.
    /// </summary>
    internal Task SettleTogetherAsync(IReadOnlyCollection<ReceivedMessage> messages, SettleKind kind, TimeSpan delay)
    {
        // All checked before any is marked: a refused call must leave every message as it was.
        foreach (var message in messages)
        {
            if (!ReferenceEquals(message.Consumer, this)) throw new ArgumentException($"Message {message.Partition}/{message.Offset} is not one of this consumer's.", nameof(messages));
        }
        var items = new List<Settlement>(messages.Count);
        foreach (var message in messages)
        {
            if (message.TryMarkSettled()) items.Add(new Settlement(message, kind, delay, confirmed: true));
        }
        if (items.Count == 0) return Task.CompletedTask;
        if (!_settlements.Writer.TryWrite(new Settlement(null, kind, delay, confirmed: false) { Together = [.. items] }))
            return Task.FromException(new GranaryException(GranaryErrorCode.Closed,
                $"The consumer of topic '{Topic}', group '{Group}' was disposed; {items.Count} messages will be redelivered."));
        return Task.WhenAll(items.Select(i => i.Completion!.Task));
    }

    /// <summary>This consumer's logger, for the typed and batch runners built on it.</summary>
    internal ILogger Logger => _logger;

    internal enum SettleKind { Ack, Nack, Reject, RejectDeserialization }

    /// <summary>
    /// An ack, nack or reject on its way to the broker; with no message, a flush marker. Only a confirmed one (or a
    /// flush) has a completion: a queued ack reports a failure through <see cref="AckFailed"/>.
    /// </summary>
    private sealed class Settlement(ReceivedMessage? message, SettleKind kind, TimeSpan delay, bool confirmed)
    {
        public ReceivedMessage? Message { get; } = message;
        public SettleKind Kind { get; } = kind;
        public TimeSpan Delay { get; } = delay;
        public TaskCompletionSource? Completion { get; } = confirmed ? new(TaskCreationOptions.RunContinuationsAsynchronously) : null;

        /// <summary>Settlements the loop takes in the same pass (<see cref="SettleTogetherAsync"/>); with them, no message and no completion.</summary>
        public Settlement[]? Together { get; init; }

        public static Settlement Flush() => new(null, SettleKind.Ack, TimeSpan.Zero, confirmed: true);
    }
}
