namespace Granary.Tests.Broker;

/// <summary>Expiry and delays survive a real silo killed with SIGKILL: state on disk and the file reminder table bring them back.</summary>
public sealed class TimedMessagesRestartTests
{
    private static readonly ConsumerOptions NoExpiry = new() { AckTimeout = ClientTestExtensions.NoExpiry };

    [Fact]
    public async Task MessagesExpiringWhileTheSiloIsDown_AreDeadLetteredAfterTheRestart_WithNoConsumerConnected()
    {
        using var data = new TempDirectory();
        await using var silo = new SiloProcess(data.Path);
        silo.Start();
        await using (var client = await silo.ConnectAsync())
        {
            await client.Admin.CreateTopicAsync("orders");
            await using (var consumer = client.CreateConsumer("orders", "billing")) await consumer.StartAsync();
            await using var producer = client.CreateProducer("orders");
            for (int i = 0; i < 5; i++) await producer.SendAsync(new OutgoingMessage(new byte[] { (byte)i }) { TimeToLive = TimeSpan.FromSeconds(15) });
            // The cursor registers its reminder (in the data directory) once it watches the expiring messages.
            string reminders = Path.Combine(data.Path, "reminders.json");
            await Eventually.UntilAsync(() => File.Exists(reminders) && File.ReadAllText(reminders).Contains("orders/billing/0", StringComparison.Ordinal));
            await silo.KillAsync(); // before the messages expire (15 s leaves a slow machine room)
        }

        silo.Start();
        await using var restarted = await silo.ConnectAsync();
        // No consumer of "orders" connects: only the reminder can wake the cursor (its period is one minute).
        await Eventually.UntilAsync(() => restarted.TopicExistsAsync("orders.billing.dlq"), TimeSpan.FromMinutes(3));
        await using var dlq = restarted.CreateConsumer("orders.billing.dlq", "inspect", NoExpiry);
        var letters = await Eventually.CollectAsync(dlq.ReadAllAsync(), r => r.Count >= 5, TimeSpan.FromMinutes(3), m => m.AckAsync());
        Assert.All(letters, l => Assert.Equal(GranaryHeaders.Reasons.Expired, DeadLetterTests.Header(l, GranaryHeaders.DeadLetterReason)));
        Assert.Equal([0, 1, 2, 3, 4], letters.Select(l => (int)l.Payload.Span[0]).Order());
        var lag = await restarted.Admin.GetLagAsync("orders", "billing");
        Assert.Equal(5, lag.Partitions[0].Expired);
        Assert.Equal(0, lag.TotalLag);
    }

    [Fact]
    public async Task ADelayedMessage_SurvivesASiloKill_AndIsDeliveredNoSoonerThanItsTime()
    {
        using var data = new TempDirectory();
        await using var silo = new SiloProcess(data.Path);
        silo.Start();
        DateTimeOffset deliverAt;
        await using (var client = await silo.ConnectAsync())
        {
            await client.Admin.CreateTopicAsync("reminders");
            await using var producer = client.CreateProducer("reminders");
            // Due well after the kill even on a loaded machine (a silo start alone can take seconds in a Debug build):
            // were it due before the first read, "later" (offset 0) would rightly come first.
            deliverAt = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(20);
            await producer.SendAsync(new OutgoingMessage("later"u8.ToArray()) { DeliverAt = deliverAt });
            await producer.SendAsync(new OutgoingMessage("now"u8.ToArray()));
            await using var consumer = client.CreateConsumer("reminders", "g", NoExpiry);
            var first = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync());
            Assert.Equal("now", MessagingTests.Text(Assert.Single(first)));
            await silo.KillAsync();
        }

        silo.Start();
        await using var restarted = await silo.ConnectAsync();
        await using var after = restarted.CreateConsumer("reminders", "g", NoExpiry);
        // "now" may come again (its ack may not have been saved before the kill: at-least-once); "later" must come.
        var received = await Eventually.CollectAsync(after.ReadAllAsync(), r => r.Any(m => MessagingTests.Text(m) == "later"), TimeSpan.FromMinutes(2), m => m.AckAsync());
        var arrivedAt = DateTimeOffset.UtcNow;
        Assert.All(received.SkipLast(1), m => Assert.Equal("now", MessagingTests.Text(m)));
        Assert.True(arrivedAt >= deliverAt, $"delivered at {arrivedAt:O}, due {deliverAt:O}");
    }
}
