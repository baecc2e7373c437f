using Granary.Client;
using Granary.Client.Internal;
using Granary.Grains;

namespace Granary.Tests.Client;

/// <summary>
/// The sender's pooled batch buffer: a call that timed out may still be queued in Orleans (which serializes a request
/// when it sends it, and in the same silo passes an immutable argument without a copy), so the bytes it carries must
/// never be handed to another batch, even after a retry of it succeeded.
/// </summary>
public sealed class PartitionSenderBufferTests
{
    [Fact]
    public async Task ABatchWhoseFirstAttemptTimedOut_KeepsItsBytes_AfterTheRetrySucceeds_AndLaterBatchesAreSent()
    {
        var grain = new TimeoutThenAcceptGrain();
        var options = new ProducerOptions { MaxRetries = 3 };
        using var stopping = new CancellationTokenSource();
        var sender = new PartitionSender(grain, "t", 0, options, producerId: 0, (_, _, _) => false, stopping.Token);
        const int batches = 40;
        for (int i = 0; i < batches; i++)
        {
            var payload = new byte[200];
            Array.Fill(payload, (byte)(i + 1));
            var send = new PendingSend(new Message(null, payload, null), payload.Length, null, null, CancellationToken.None);
            Assert.True(sender.TryEnqueue(send));
            await send.Completion.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        }
        await sender.DisposeAsync();

        // What the timed-out attempts handed over (still owned by the transport, as far as the sender can know) is
        // unchanged: no later batch was encoded into those buffers.
        Assert.Equal(batches, grain.TimedOut.Count);
        foreach (var (records, copy) in grain.TimedOut) Assert.Equal(copy, records.ToArray());
    }

    private sealed class TimeoutThenAcceptGrain : IPartitionGrain
    {
        private bool _timeOutNext = true;
        public List<(ReadOnlyMemory<byte> Records, byte[] Copy)> TimedOut { get; } = [];

        public Task<AppendResult> AppendAsync(ProduceBatch batch)
        {
            // One sender, one batch in flight: calls come one at a time.
            if (_timeOutNext)
            {
                _timeOutNext = false;
                TimedOut.Add((batch.Records, batch.Records.ToArray()));
                return Task.FromException<AppendResult>(new TimeoutException("no answer in time"));
            }
            _timeOutNext = true;
            return Task.FromResult(new AppendResult(0, batch.RecordCount, 1));
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
