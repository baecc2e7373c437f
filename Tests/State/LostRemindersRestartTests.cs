using Granary.Grains.Hosting.StateFiles;
using Granary.Tests.Broker;

namespace Granary.Tests.State;

/// <summary>Issue 16 item 3: a damaged reminder table is rebuilt, and the reminders it held are re-created.</summary>
public sealed class LostRemindersRestartTests
{
    // A short poll: disposing an idle consumer waits for its pending poll to end (up to PollWait, 5 s by default).
    private static readonly ConsumerOptions NoExpiry = new() { AckTimeout = ClientTestExtensions.NoExpiry, PollWait = TimeSpan.FromMilliseconds(200) };

    /// <summary>
    /// Expiring messages, a silo killed, its reminder table emptied: the silo starts, wakes its cursors, and the messages
    /// are dead-lettered with no consumer connected (only a reminder or a wake could reach the cursor).
    /// </summary>
    [Fact]
    public async Task AfterAnEmptiedReminderTable_ExpiringMessagesAreStillDeadLettered_WithNoConsumerConnected()
    {
        using var data = new TempDirectory();
        await using var silo = new SiloProcess(data.Path);
        silo.Start();
        string reminders = Path.Combine(data.Path, "reminders.json");
        await using (var client = await silo.ConnectAsync())
        {
            await client.Admin.CreateTopicAsync("orders");
            await using (var consumer = client.CreateConsumer("orders", "billing", new ConsumerOptions { PollWait = TimeSpan.FromMilliseconds(200) })) await consumer.StartAsync();
            await using var producer = client.CreateProducer("orders");
            for (int i = 0; i < 3; i++) await producer.SendAsync(new OutgoingMessage(new[] { (byte)i }) { TimeToLive = TimeSpan.FromSeconds(15) });
            await Eventually.UntilAsync(() => File.Exists(reminders) && File.ReadAllText(reminders).Contains("orders/billing/0", StringComparison.Ordinal));
            await silo.KillAsync();
        }
        await File.WriteAllBytesAsync(reminders, []);
        File.Delete(StateFile.PreviousOf(reminders));

        silo.Start();
        await using var restarted = await silo.ConnectAsync();
        await Eventually.UntilAsync(() => restarted.TopicExistsAsync("orders.billing.dlq"), TimeSpan.FromMinutes(2));
        await using var dlq = restarted.CreateConsumer("orders.billing.dlq", "inspect", NoExpiry);
        var letters = await Eventually.CollectAsync(dlq.ReadAllAsync(), r => r.Count >= 3, TimeSpan.FromMinutes(2), m => m.AckAsync());
        Assert.All(letters, l => Assert.Equal(GranaryHeaders.Reasons.Expired, DeadLetterTests.Header(l, GranaryHeaders.DeadLetterReason)));
        Assert.True(silo.HasLogged("Damaged reminders state file"), string.Join('\n', silo.RecentOutput.TakeLast(50)));
        Assert.True(silo.HasLogged("woke 1 of 1 cursors"), string.Join('\n', silo.RecentOutput.TakeLast(50)));
    }
}
