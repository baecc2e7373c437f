using System.Collections.Concurrent;

namespace Granary.Tests.Broker;

/// <summary>Confirms mean durable: a real silo process killed with SIGKILL loses nothing it confirmed.</summary>
public sealed class SiloKillTests
{
    [Fact]
    public async Task SigKill_WhileProducing_EveryConfirmedMessageIsConsumedAfterRestart_AndUnackedDeliveriesComeBack()
    {
        using var data = new TempDirectory();
        await using var silo = new SiloProcess(data.Path);
        silo.Start();
        // A short poll: disposing an idle consumer waits for its pending poll to end (up to PollWait, 5 s by default).
        var consumerOptions = new ConsumerOptions { AckTimeout = TimeSpan.FromMinutes(10), PollWait = TimeSpan.FromMilliseconds(200) };
        var confirmed = new ConcurrentDictionary<string, SendReceipt>();
        var ackedBeforeKill = new HashSet<string>();
        var unackedBeforeKill = new HashSet<string>();

        var client = await silo.ConnectAsync();
        try
        {
            await client.Admin.CreateTopicAsync("orders", new TopicOptions { Partitions = 2 });
            await using var producer = client.CreateProducer("orders");
            using var stopProducing = new CancellationTokenSource();
            var producers = Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
            {
                for (int i = 0; !stopProducing.IsCancellationRequested; i++)
                {
                    string text = $"p{p}-{i}";
                    try
                    {
                        confirmed[text] = await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes(text)) { Key = $"k{p}" });
                    }
                    catch (GranaryException)
                    {
                        return; // the silo is gone: this send was never confirmed
                    }
                }
            })).ToList();

            // A consumer takes 40 messages, acks half, and holds the rest unacknowledged.
            var consumer = client.CreateConsumer("orders", "billing", consumerOptions);
            var taken = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 40);
            for (int i = 0; i < taken.Count; i++)
            {
                if (i % 2 == 0)
                {
                    await taken[i].AckAsync();
                    ackedBeforeKill.Add(MessagingTests.Text(taken[i]));
                }
                else
                {
                    unackedBeforeKill.Add(MessagingTests.Text(taken[i]));
                }
            }
            await Eventually.UntilAsync(() => confirmed.Count >= 400, TimeSpan.FromSeconds(120));

            await silo.KillAsync(); // producers are still sending
            stopProducing.Cancel();
            await Task.WhenAll(producers).WaitAsync(TimeSpan.FromSeconds(120));
        }
        finally
        {
            await client.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        }

        silo.Start();
        await using var restarted = await silo.ConnectAsync();
        await using var after = restarted.CreateConsumer("orders", "billing", consumerOptions);
        var expected = confirmed.Keys.Where(k => !ackedBeforeKill.Contains(k)).ToHashSet();
        var received = new HashSet<string>();
        var attempts = new Dictionary<string, int>();
        await Eventually.CollectAsync(after.ReadAllAsync(), _ => expected.IsSubsetOf(received), TimeSpan.FromSeconds(120), async m =>
        {
            received.Add(MessagingTests.Text(m));
            attempts[MessagingTests.Text(m)] = m.DeliveryAttempt;
            await m.AckAsync();
        });

        Assert.True(confirmed.Count >= 400);
        Assert.Subset(received, unackedBeforeKill);
        // The confirmed offsets are the ones stored: no confirmed message came back at another position.
        var byOffset = confirmed.Values.GroupBy(r => (r.Partition, r.Offset)).Where(g => g.Count() > 1).ToList();
        Assert.Empty(byOffset);
    }
}
