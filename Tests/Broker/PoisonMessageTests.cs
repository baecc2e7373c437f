using System.Collections.Concurrent;

namespace Granary.Tests.Broker;

/// <summary>
/// Under the ordered modes a nack takes back the later messages of its partition or key that the member holds. Those
/// take-backs are not deliveries: a poison message must use up only its own <c>MaxDeliveries</c>, never those of the
/// healthy messages queued behind it (issue 16, item 7).
/// </summary>
[Collection(BrokerCluster.Name)]
[Trait("Category", "Integration")]
public sealed class PoisonMessageTests(BrokerClusterFixture fixture)
{
    private static readonly TimeSpan NoExpiry = ClientTestExtensions.NoExpiry;

    private GranaryClient Client => fixture.Client;

    [Theory]
    [InlineData(DeliveryMode.KeyShared)]
    [InlineData(DeliveryMode.Ordered)]
    public async Task APoisonMessage_IsDeadLetteredAloneAfterMaxDeliveries_AndTheHealthyMessagesBehindItAreHandled(DeliveryMode mode)
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using (var producer = Client.CreateProducer(topic))
        {
            foreach (string text in new[] { "poison", "ok-1", "ok-2", "ok-3" })
                await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes(text)) { Key = "k" });
        }

        var poisonAttempts = new ConcurrentQueue<int>();
        var handled = new ConcurrentQueue<(string Text, int Attempt)>();
        await using (var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { Mode = mode, MaxDeliveries = 3, AckTimeout = NoExpiry }))
        {
            using var stop = new CancellationTokenSource();
            var run = consumer.RunAsync((message, _) =>
            {
                if (MessagingTests.Text(message) == "poison")
                {
                    poisonAttempts.Enqueue(message.DeliveryAttempt);
                    throw new InvalidOperationException("poison");
                }
                handled.Enqueue((MessagingTests.Text(message), message.DeliveryAttempt));
                return Task.CompletedTask;
            }, cancellationToken: stop.Token);

            // Before the fix all four reached the dead-letter topic and none was handled: this never came true.
            await Eventually.UntilAsync(async () => handled.Count >= 3
                && (await Client.Admin.GetLagAsync(topic, "g")) is { TotalLag: 0 } lag && lag.Partitions.Sum(p => p.DeadLettered) >= 1);
            await stop.CancelAsync();
            await run;
        }

        Assert.Equal([1, 2, 3], poisonAttempts);
        Assert.Equal(["ok-1", "ok-2", "ok-3"], handled.Select(h => h.Text));
        // Taken back twice per nack of the poison message, and yet each is handled on its first counted delivery.
        Assert.All(handled, h => Assert.Equal(1, h.Attempt));
        Assert.Equal(1, (await Client.Admin.GetLagAsync(topic, "g")).Partitions.Sum(p => p.DeadLettered));

        string dlq = $"{topic}.g.dlq";
        Assert.Equal(1, (await Client.Admin.DescribeTopicAsync(dlq)).PartitionDetails.Sum(p => p.EndOffset - p.StartOffset));
        await using var inspect = Client.CreateConsumer(dlq, "inspect", new ConsumerOptions { AckTimeout = NoExpiry });
        var letter = Assert.Single(await Eventually.CollectAsync(inspect.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync()));
        Assert.Equal("poison", MessagingTests.Text(letter));
        Assert.Equal("3", Encoding.UTF8.GetString(letter.Headers[GranaryHeaders.DeadLetterAttempts]));
    }
}
