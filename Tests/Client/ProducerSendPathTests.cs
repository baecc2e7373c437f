using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace Granary.Tests.Client;

/// <summary>
/// The producer's per-send path (W1 produce throughput): a send costs a message, its pending entry and its task, and no
/// async state machine or continuation per send when nobody traces; its outcome is still counted before its caller
/// sees it, and flushes still wait for it. Runs on a fake cluster whose partitions answer when the test says so.
/// Runs alone: a meter or activity listener of a test running beside it would change what a send does.
/// </summary>
[Collection(Granary.Tests.Broker.AllocationMeasurement.Name)]
public sealed class ProducerSendPathTests
{
    [Fact]
    public async Task SendAsync_WithoutTracing_AllocatesNoStateMachinePerSend()
    {
        var cluster = new FakeCluster(answerAtOnce: false);
        await using var producer = GranaryClient.Create(cluster.Client).CreateProducer("t");
        var messages = Enumerable.Range(0, 2_000).Select(_ => new OutgoingMessage(new byte[100])).ToArray();
        const int sends = 1_000;
        var tasks = new Task<SendReceipt>[sends];
        long perSend;
        try
        {
            // The first sends read the topic's settings and start the partition senders; measured after that.
            var first = producer.SendAsync(messages[0]);
            await cluster.HeldAsync();
            cluster.AnswerAll();
            await first.WaitAsync(Eventually.DefaultTimeout, TestContext.Current.CancellationToken);

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < sends; i++) tasks[i] = producer.SendAsync(messages[i + 1]);
            perSend = (GC.GetAllocatedBytesForCurrentThread() - before) / sends;
        }
        finally
        {
            // Whatever happened above, nothing stays held: the producer's disposal waits for every send.
            cluster.AnswerFromNowOn();
        }
        await producer.FlushAsync(TestContext.Current.CancellationToken).WaitAsync(Eventually.DefaultTimeout, TestContext.Current.CancellationToken);
        Assert.All(tasks, t => Assert.True(t.IsCompletedSuccessfully));

        // A Message record, a PendingSend and its TaskCompletionSource and task, plus the partition queue's share:
        // 357 B measured (Debug build). The async method this replaced added its state machine box and a continuation
        // per send: 573 B measured on that code. The bound lies between, with room for the queue's growth.
        Assert.True(perSend <= 420, $"A send allocated {perSend} bytes on the caller's thread.");
    }

    [Fact]
    public async Task SendAsync_CountsTheOutcomeBeforeTheCallerSeesIt_AndFlushWaitsForTheSend()
    {
        using var metrics = new ProducerMetrics("counted");
        var cluster = new FakeCluster(answerAtOnce: false);
        await using var producer = GranaryClient.Create(cluster.Client).CreateProducer("counted");
        var timeout = Eventually.DefaultTimeout;
        var cancellation = TestContext.Current.CancellationToken;

        var send = producer.SendAsync(new OutgoingMessage("a"u8.ToArray()));
        // Whether the send's task was complete when it was counted as no longer in flight (the listener is called
        // synchronously where the producer counts): it must not be, or a caller could see its outcome still in flight.
        bool? completeWhenNoLongerInFlight = null;
        metrics.Measured = (instrument, value) =>
        {
            if (instrument == "granary.client.in_flight" && value < 0) completeWhenNoLongerInFlight = send.IsCompleted;
        };
        Task flushed;
        Task seen;
        long confirmedWhenSeen = -1;
        try
        {
            await cluster.HeldAsync();
            flushed = producer.FlushAsync(cancellation);
            Assert.Equal(1, metrics.Sum("granary.client.sent"));
            Assert.Equal(1, metrics.Sum("granary.client.in_flight"));
            Assert.False(flushed.IsCompleted);
            seen = send.ContinueWith(_ => confirmedWhenSeen = metrics.Sum("granary.client.confirmed"),
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        finally
        {
            // Nothing stays held, also when an assertion above failed: the producer's disposal waits for the send.
            cluster.AnswerFromNowOn();
        }
        var receipt = await send.WaitAsync(timeout, cancellation);
        await seen.WaitAsync(timeout, cancellation);
        await flushed.WaitAsync(timeout, cancellation);
        Assert.Equal(0, receipt.Offset);
        Assert.Equal(1, confirmedWhenSeen);
        Assert.False(completeWhenNoLongerInFlight);
        Assert.Equal(0, metrics.Sum("granary.client.in_flight"));
    }

    [Fact]
    public async Task SendAsync_AFailedBatch_IsCountedWithItsErrorCode_AndTheCallerGetsTheError()
    {
        using var metrics = new ProducerMetrics("failing");
        var cluster = new FakeCluster(answerAtOnce: true) { Failure = new GranaryException(GranaryErrorCode.MessageTooLarge, "refused") };
        await using var producer = GranaryClient.Create(cluster.Client).CreateProducer("failing");

        var error = await Assert.ThrowsAsync<GranaryException>(() => producer.SendAsync(new OutgoingMessage("a"u8.ToArray())));
        Assert.Equal(GranaryErrorCode.MessageTooLarge, error.Code);
        Assert.Equal(1, metrics.Sum("granary.client.failed"));
        Assert.Equal(["MessageTooLarge"], metrics.ErrorTypes());
        Assert.Equal(0, metrics.Sum("granary.client.in_flight"));
        await producer.FlushAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task SendAsync_InvalidOrCancelledSend_FailsItsTask_NotTheCall_AndIsNotOutstanding()
    {
        var cluster = new FakeCluster(answerAtOnce: true);
        await using var producer = GranaryClient.Create(cluster.Client).CreateProducer("t");

        var nullMessage = producer.SendAsync(null!);
        await Assert.ThrowsAsync<ArgumentNullException>(() => nullMessage);
        var badPartition = producer.SendAsync(new OutgoingMessage("a"u8.ToArray()) { Partition = -1 });
        Assert.Equal(GranaryErrorCode.InvalidArgument, (await Assert.ThrowsAsync<GranaryException>(() => badPartition)).Code);
        var cancelled = producer.SendAsync(new OutgoingMessage("a"u8.ToArray()), new CancellationToken(canceled: true));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.True(cancelled.IsCanceled);

        await producer.FlushAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(0, cluster.Appends);
    }

    /// <summary>A cluster of one 4-partition topic; its partitions hold each append until <see cref="AnswerAll"/> (or answer at once).</summary>
    internal sealed class FakeCluster
    {
        private readonly ConcurrentQueue<(TaskCompletionSource<AppendResult> Answer, int Count)> _held = new();
        private volatile bool _answerAtOnce;
        private long _nextOffset;
        private int _appends;

        public FakeCluster(bool answerAtOnce)
        {
            _answerAtOnce = answerAtOnce;
            Client = ClusterProxy.Create(this);
        }

        public IClusterClient Client { get; }

        public GranaryException? Failure { get; init; }

        public int Appends => Volatile.Read(ref _appends);

        /// <summary>Waits until a batch reached its partition and is held there.</summary>
        public Task HeldAsync() => Eventually.UntilAsync(() => !_held.IsEmpty);

        /// <summary>Answers what is held and every later append at once.</summary>
        public void AnswerFromNowOn()
        {
            _answerAtOnce = true;
            AnswerAll();
        }

        public void AnswerAll()
        {
            while (_held.TryDequeue(out var held))
            {
                long baseOffset = Interlocked.Add(ref _nextOffset, held.Count) - held.Count;
                held.Answer.TrySetResult(new AppendResult(baseOffset, held.Count, 1));
            }
        }

        internal Task<AppendResult> Append(ProduceBatch batch)
        {
            Interlocked.Increment(ref _appends);
            if (Failure is { } failure) return Task.FromException<AppendResult>(failure);
            var answer = new TaskCompletionSource<AppendResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            _held.Enqueue((answer, batch.RecordCount));
            if (_answerAtOnce) AnswerAll();
            return answer.Task;
        }
    }

    /// <summary>The Orleans client of <see cref="FakeCluster"/>: hands out its topic and partition grains.</summary>
    public class ClusterProxy : DispatchProxy
    {
        private static readonly IServiceProvider Services = new ServiceCollection().BuildServiceProvider();
        private FakeCluster? _cluster;

        internal static IClusterClient Create(FakeCluster cluster)
        {
            var client = DispatchProxy.Create<IClusterClient, ClusterProxy>();
            ((ClusterProxy)(object)client)._cluster = cluster;
            return client;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == "get_ServiceProvider") return Services;
            if (targetMethod.Name == "GetGrain" && targetMethod.IsGenericMethod)
            {
                var type = targetMethod.GetGenericArguments()[0];
                if (type == typeof(IPartitionGrain)) return new FakePartition(_cluster!);
                if (type == typeof(ITopicGrain)) return TopicProxy.Create();
            }
            throw new NotSupportedException(targetMethod.ToString());
        }
    }

    /// <summary>A topic of 4 partitions with the default settings.</summary>
    public class TopicProxy : DispatchProxy
    {
        internal static ITopicGrain Create() => DispatchProxy.Create<ITopicGrain, TopicProxy>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod!.Name == nameof(ITopicGrain.GetConfigAsync)
            ? Task.FromResult(new TopicConfig { Partitions = 4 })
            : throw new NotSupportedException(targetMethod.ToString());
    }

    private sealed class FakePartition(FakeCluster cluster) : IPartitionGrain
    {
        public Task<AppendResult> AppendAsync(ProduceBatch batch) => cluster.Append(batch);
        public Task<FetchResult> FetchAsync(long fromOffset, int maxMessages, TimeSpan maxWait) => throw new NotSupportedException();
        public Task<long> FindOffsetAsync(long timestampMs) => throw new NotSupportedException();
        public Task ReportCommittedAsync(string group, long committedOffset) => throw new NotSupportedException();
        public Task WatchStoppedAsync(string group, long fromOffset) => throw new NotSupportedException();
        public Task<PartitionInfo> DescribeAsync() => throw new NotSupportedException();
        public Task DeleteAsync(string? incarnation) => throw new NotSupportedException();
        public Task ApplyConfigAsync(TopicConfig config) => throw new NotSupportedException();
    }

    /// <summary>The Granary.Client meter's producer measurements for one topic.</summary>
    private sealed class ProducerMetrics : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(string Instrument, long Value, string? ErrorType)> _measurements = new();

        public ProducerMetrics(string topic)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == GranaryClientMetrics.MeterName) listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                string? topicTag = null, errorType = null;
                foreach (var tag in tags)
                {
                    if (tag.Key == "messaging.destination.name") topicTag = tag.Value as string;
                    if (tag.Key == "error.type") errorType = tag.Value as string;
                }
                if (topicTag != topic) return;
                _measurements.Enqueue((instrument.Name, value, errorType));
                Measured?.Invoke(instrument.Name, value);
            });
            _listener.Start();
        }

        /// <summary>Called with each measurement of the topic, where the producer makes it.</summary>
        public Action<string, long>? Measured { get; set; }

        public long Sum(string instrument) => _measurements.Where(m => m.Instrument == instrument).Sum(m => m.Value);

        public string?[] ErrorTypes() => [.. _measurements.Where(m => m.Instrument == "granary.client.failed").Select(m => m.ErrorType)];

        public void Dispose() => _listener.Dispose();
    }
}
