using System.Collections.Concurrent;
using System.Diagnostics;

namespace Granary.Tests.Cluster;

/// <summary>
/// Producers sending without pause under acks All and a consumer group acking everything, recording what was
/// confirmed and what arrived (and when), so a test can kill silos underneath and check that nothing confirmed is lost.
/// </summary>
internal sealed class ClusterWorkload : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _stopProducing = new();
    private readonly List<Task> _producers = [];
    private readonly Task _consumer;
    private readonly GranaryProducer _producer;
    private readonly GranaryConsumer _consumerClient;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public ConcurrentDictionary<string, SendReceipt> Confirmed { get; } = new();
    public ConcurrentDictionary<string, TimeSpan> Received { get; } = new();
    public ConcurrentQueue<GranaryException> SendErrors { get; } = new();

    public ClusterWorkload(GranaryClient client, string topic, int producers = 4)
    {
        _producer = client.CreateProducer(topic, new ProducerOptions { Acks = Acks.All, MaxRetries = 20 });
        for (int p = 0; p < producers; p++)
        {
            int id = p;
            _producers.Add(Task.Run(() => ProduceAsync(id)));
        }
        // A short poll: disposing an idle consumer waits for its pending poll to end (up to PollWait, 5 s by default).
        _consumerClient = client.CreateConsumer(topic, "audit", new ConsumerOptions { AckTimeout = TimeSpan.FromSeconds(30), PollWait = TimeSpan.FromMilliseconds(200) });
        _consumer = Task.Run(ConsumeAsync);
    }

    /// <summary>Time since the workload started.</summary>
    public TimeSpan Now => _clock.Elapsed;

    private async Task ProduceAsync(int id)
    {
        for (int i = 0; !_stopProducing.IsCancellationRequested; i++)
        {
            string text = $"p{id}-{i}";
            try
            {
                Confirmed[text] = await _producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes(text)) { Key = $"k{id}-{i % 16}" });
            }
            catch (GranaryException e)
            {
                SendErrors.Enqueue(e); // not confirmed: it need not arrive
                if (!e.IsRetriable && e.Code != GranaryErrorCode.Timeout) throw;
            }
        }
    }

    private async Task ConsumeAsync()
    {
        try
        {
            await foreach (var message in _consumerClient.ReadAllAsync(_stop.Token))
            {
                Received.TryAdd(Encoding.UTF8.GetString(message.Payload.Span), Now);
                try { await message.AckAsync(); }
                catch (GranaryException) { } // redelivered later: counted once
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Waits until <paramref name="count"/> more sends are confirmed than now.</summary>
    public Task ConfirmMoreAsync(int count, TimeSpan timeout)
    {
        int target = Confirmed.Count + count;
        return Eventually.UntilAsync(() => Confirmed.Count >= target, timeout);
    }

    /// <summary>
    /// Stops producing, then waits until every confirmed message has been received, and checks that no two confirmed
    /// messages were given the same position.
    /// </summary>
    public async Task StopAndCheckNothingLostAsync(TimeSpan timeout)
    {
        _stopProducing.Cancel();
        await Task.WhenAll(_producers).WaitAsync(TimeSpan.FromSeconds(120));
        HashSet<string> confirmed = [.. Confirmed.Keys];
        await Eventually.UntilAsync(() => confirmed.All(Received.ContainsKey), timeout);
        Assert.Equal(Confirmed.Count, Confirmed.Values.Select(r => (r.Partition, r.Offset)).Distinct().Count());
    }

    public async ValueTask DisposeAsync()
    {
        _stopProducing.Cancel();
        _stop.Cancel();
        await Task.WhenAll([.. _producers, _consumer]).WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _consumerClient.DisposeAsync();
        await _producer.DisposeAsync();
        _stop.Dispose();
        _stopProducing.Dispose();
    }

    /// <summary>Waits until the cluster has <paramref name="silos"/> active silos.</summary>
    public static Task WaitForSilosAsync(GranaryClient client, int silos) =>
        Eventually.UntilAsync(async () => (await client.Admin.GetActiveSilosAsync()).Length == silos, TimeSpan.FromSeconds(120));
}
