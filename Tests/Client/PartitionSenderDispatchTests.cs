using System.Collections.Concurrent;
using Granary.Client;
using Granary.Client.Internal;
using Granary.Grains;
using Granary.Records;

namespace Granary.Tests.Client;

/// <summary>
/// A send with nothing queued or in flight (linger 0) goes out on the caller's thread, without waking the sender's
/// loop; sends that find others queued or in flight are still batched by the loop, and every batch goes out in send
/// order, numbered in that order.
/// </summary>
public sealed class PartitionSenderDispatchTests
{
    private static readonly AsyncLocal<string?> CallersLocal = new();
    // True on the test's thread while it is inside TryEnqueue: a call seen with it set was issued by that very call.
    [ThreadStatic] private static bool t_insideTryEnqueue;

    [Fact]
    public async Task SerialSends_GoOutOnTheCallersThread_InTheSendersOwnContext_NotTheCallers()
    {
        var grain = new RecordingGrain();
        using var stopping = new CancellationTokenSource();
        var sender = new PartitionSender(grain, "t", 0, new ProducerOptions(), producerId: 0, (_, _, _) => false, stopping.Token);
        CallersLocal.Value = "caller";
        for (int i = 0; i < 20; i++)
        {
            var send = Send(i);
            t_insideTryEnqueue = true;
            try
            {
                Assert.True(sender.TryEnqueue(send));
            }
            finally
            {
                t_insideTryEnqueue = false;
            }
            await send.Completion.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        }
        await sender.DisposeAsync();

        // The first send may find the loop not started yet; the later ones, sent alone after a confirm, go inline.
        // (Today's sender issues every call on its loop's thread: none inside TryEnqueue.)
        Assert.InRange(grain.IssuedInsideTryEnqueue, 1, 20);
        // No call carried the caller's async locals, whichever thread issued it.
        Assert.All(grain.CallersLocalSeen, Assert.Null);
        Assert.Equal(Enumerable.Range(0, 20), grain.Payloads);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task SendsMixedAloneAndInBursts_GoOutInSendOrder_WithSequencesInThatOrder(int maxInFlight)
    {
        var grain = new RecordingGrain();
        using var stopping = new CancellationTokenSource();
        var options = new ProducerOptions { MaxInFlightBatchesPerPartition = maxInFlight };
        var sender = new PartitionSender(grain, "t", 0, options, producerId: 42, (_, _, _) => false, stopping.Token);
        var random = new Random(7);
        var sends = new List<PendingSend>();
        for (int i = 0; i < 400; i++)
        {
            var send = Send(i);
            sends.Add(send);
            Assert.True(sender.TryEnqueue(send));
            // Now and then wait for everything so far: the next send then finds the sender idle and may go alone.
            if (random.Next(4) == 0) await send.Completion.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        }
        await Task.WhenAll(sends.Select(s => s.Completion.Task)).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        await sender.DisposeAsync();

        Assert.Equal(Enumerable.Range(0, 400), grain.Payloads); // calls issued in send order
        Assert.Equal(Enumerable.Range(0, 400), grain.Sequences); // numbered in that order under the one producer id
        Assert.True(grain.CallCount < 400, $"{grain.CallCount} calls for 400 sends: bursts were not batched");
        Assert.True(grain.MaxConcurrentCalls <= maxInFlight, $"{grain.MaxConcurrentCalls} calls in flight, limit {maxInFlight}");
    }

    private static PendingSend Send(int i) => new(new Message(null, BitConverter.GetBytes(i), null), 4, null, null, CancellationToken.None);

    private sealed class RecordingGrain : IPartitionGrain
    {
        private readonly Lock _gate = new();
        private int _inFlight;
        private long _offset;
        public List<int> Payloads { get; } = [];
        public List<int> Sequences { get; } = [];
        public ConcurrentQueue<string?> CallersLocalSeen { get; } = new();
        public int CallCount { get; private set; }
        public int IssuedInsideTryEnqueue { get; private set; }
        public int MaxConcurrentCalls { get; private set; }

        public Task<AppendResult> AppendAsync(ProduceBatch batch)
        {
            long baseOffset;
            lock (_gate)
            {
                CallersLocalSeen.Enqueue(CallersLocal.Value);
                if (t_insideTryEnqueue) IssuedInsideTryEnqueue++;
                foreach (var record in new RecordBatch(batch.Records))
                {
                    Payloads.Add(BitConverter.ToInt32(record.Payload.Span));
                    if (record.ProducerId is not null) Sequences.Add(record.Sequence);
                }
                baseOffset = _offset;
                _offset += batch.RecordCount;
                MaxConcurrentCalls = Math.Max(MaxConcurrentCalls, ++_inFlight);
                CallCount++;
            }
            return AnswerLaterAsync(new AppendResult(baseOffset, batch.RecordCount, 1));
        }

        private async Task<AppendResult> AnswerLaterAsync(AppendResult result)
        {
            // Answered on another thread, as Orleans does, after a while: sends made meanwhile queue behind the call.
            await Task.Delay(1);
            lock (_gate) _inFlight--;
            return result;
        }

        public Task<FetchResult> FetchAsync(long fromOffset, int maxMessages, TimeSpan maxWait) => throw new NotSupportedException();
        public Task<long> FindOffsetAsync(long timestampMs) => throw new NotSupportedException();
        public Task ReportCommittedAsync(string group, long committedOffset) => throw new NotSupportedException();
        public Task WatchStoppedAsync(string group, long fromOffset) => throw new NotSupportedException();
        public Task<PartitionInfo> DescribeAsync() => throw new NotSupportedException();
        public Task DeleteAsync(string? incarnation) => throw new NotSupportedException();
        public Task ApplyConfigAsync(TopicConfig config) => throw new NotSupportedException();
    }
}
