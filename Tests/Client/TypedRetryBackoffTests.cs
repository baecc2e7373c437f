using System.Collections.Concurrent;
using System.Diagnostics;

namespace Granary.Tests.Client;

/// <summary>Through a silo: a failing handler's retries wait longer each time (the default exponential backoff).</summary>
[Collection(BrokerCluster.Name)]
[Trait("Category", "Integration")]
public sealed class TypedRetryBackoffTests(BrokerClusterFixture fixture)
{
    private GranaryClient Client => fixture.Client;

    [Fact]
    public async Task DefaultBackoff_EachRetryWaitsAtLeastHalfOfADoublingDelay()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using (var producer = Client.CreateProducer(topic))
            await producer.SendAsync(new TypedOrder("o-1", 1m));
        await using var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = ClientTestExtensions.NoExpiry, MaxDeliveries = 10 });
        var clock = Stopwatch.StartNew();
        var attempts = new ConcurrentQueue<(int Attempt, TimeSpan At)>();
        // Only the base delay is set (500 ms); backoff, jitter and cap are the defaults.
        var options = new HandlerOptions { RetryDelay = TimeSpan.FromMilliseconds(500) };
        await TypedConsumerTests.RunUntilAsync(ct => consumer.RunAsync<TypedOrder>((m, _) =>
        {
            attempts.Enqueue((m.DeliveryAttempt, clock.Elapsed));
            return m.DeliveryAttempt < 4 ? throw new InvalidOperationException("not yet") : Task.CompletedTask;
        }, options, cancellationToken: ct), async () => (await Client.Admin.GetLagAsync(topic, "g")).TotalLag == 0);

        var at = attempts.OrderBy(a => a.Attempt).Select(a => a.At).ToList();
        Assert.Equal(4, at.Count);
        // Retry n waits between half and all of 500 ms * 2^(n-1): at least 250, 500 and 1000 ms. A constant delay
        // (the old behaviour, 500 ms each) fails the last one.
        Assert.True(at[1] - at[0] >= TimeSpan.FromMilliseconds(240), $"first retry after {at[1] - at[0]}");
        Assert.True(at[2] - at[1] >= TimeSpan.FromMilliseconds(490), $"second retry after {at[2] - at[1]}");
        Assert.True(at[3] - at[2] >= TimeSpan.FromMilliseconds(990), $"third retry after {at[3] - at[2]}");
    }
}
