using System.Net;
using System.Text.Json;
using Granary.Grains.Hosting.StateFiles;

namespace Granary.Tests.State;

/// <summary>
/// Issue 16 item 3 end to end: a real silo restarted on a data directory whose cursor state, topic registry, reminder
/// table and one topic's state were replaced with garbage (no good previous copy), with a stale temp file beside them.
/// </summary>
public sealed class DamagedStateRestartTests
{
    // A short poll: disposing an idle consumer waits for its pending poll to end (up to PollWait, 5 s by default).
    private static readonly ConsumerOptions NoExpiry = new() { AckTimeout = ClientTestExtensions.NoExpiry, PollWait = TimeSpan.FromMilliseconds(200) };

    [Fact]
    public async Task ASiloWithDamagedState_Starts_IsReady_RedeliversRatherThanSkips_AndReportsEveryDamage()
    {
        using var data = new TempDirectory();
        await using var silo = new SiloProcess(data.Path);
        silo.Start();
        await using (var client = await silo.ConnectAsync())
        {
            await client.Admin.CreateTopicAsync("orders");
            await client.Admin.CreateTopicAsync("audit");
            await using var producer = client.CreateProducer("orders");
            for (int i = 0; i < 20; i++) await producer.SendAsync(new OutgoingMessage(new[] { (byte)i }));
            await using var consumer = client.CreateConsumer("orders", "billing", NoExpiry);
            await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 10, onEach: m => m.Offset < 10 ? m.AckAsync() : Task.CompletedTask);
            await Eventually.UntilAsync(async () => (await client.Admin.GetLagAsync("orders", "billing")).Partitions[0].CommittedOffset == 10);
            await using var shipping = client.CreateConsumer("orders", "shipping", NoExpiry);
            await Eventually.CollectAsync(shipping.ReadAllAsync(), r => r.Count >= 20, onEach: m => m.AckAsync());
            await Eventually.UntilAsync(async () => (await client.Admin.GetLagAsync("orders", "shipping")).Partitions[0].CommittedOffset == 20);
        }
        await silo.StopAsync(TimeSpan.FromMinutes(2));

        byte[] garbage = [.. Enumerable.Range(0, 200).Select(i => (byte)(i * 37 + 11))];
        // The cursor's state log (embedded mode keeps cursor state there, not as grain state).
        string cursor = Granary.Storage.CursorStateLog.PathFor(Path.Combine(data.Path, "state", "cursors"), "orders/billing/0");
        string registry = StateFileHarness.StatePathIn(data.Path, "topics", StateFileHarness.Registry);
        string audit = StateFileHarness.StatePathIn(data.Path, "topic", StateFileHarness.Topic("audit"));
        foreach (string file in (string[])[cursor, registry, audit])
        {
            Assert.True(File.Exists(file), file);
            await File.WriteAllBytesAsync(file, garbage);
            File.Delete(StateFile.PreviousOf(file));
        }
        // Only the record of which topic incarnation "shipping"'s cursor belongs to: whose position it holds is unknown.
        string shippingIncarnation = StateFileHarness.StatePathIn(data.Path, "cursorIncarnation", StateFileHarness.Cursor("orders", "shipping", 0));
        Assert.True(File.Exists(shippingIncarnation), shippingIncarnation);
        await File.WriteAllBytesAsync(shippingIncarnation, garbage);
        File.Delete(StateFile.PreviousOf(shippingIncarnation));
        string reminders = Path.Combine(data.Path, "reminders.json");
        await File.WriteAllBytesAsync(reminders, []);
        File.Delete(StateFile.PreviousOf(reminders));
        string staleTemp = cursor + "." + Guid.NewGuid().ToString("N") + ".tmp";
        await File.WriteAllBytesAsync(staleTemp, [1, 2, 3]);

        silo.Start();
        await silo.WaitUntilReadyAsync(TimeSpan.FromMinutes(2));
        Assert.False(File.Exists(staleTemp));
        await using var restarted = await silo.ConnectAsync();
        // Rebuilt from the topics' state files: "audit"'s is garbage and names no topic, so only "orders" is listed.
        Assert.Equal(["orders"], await restarted.Admin.ListTopicsAsync());

        // The cursor's acknowledgements are lost: it starts again from the earliest offset. Nothing is skipped.
        await using (var consumer = restarted.CreateConsumer("orders", "billing", NoExpiry))
        {
            var again = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 20, onEach: m => m.AckAsync());
            Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), again.Select(m => m.Offset).Order());
        }

        // A cursor whose incarnation record is damaged is treated as damaged: from the earliest offset again, not stuck.
        await using (var consumer = restarted.CreateConsumer("orders", "shipping", NoExpiry))
        {
            var again = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 20, onEach: m => m.AckAsync());
            Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), again.Select(m => m.Offset).Order());
        }

        // The topic whose own state is gone is not recreated empty: it answers CorruptData.
        var error = await Assert.ThrowsAsync<GranaryException>(() => restarted.Admin.DescribeTopicAsync("audit"));
        Assert.True(error.Code == GranaryErrorCode.CorruptData, error.ToString());

        using var http = new HttpClient { BaseAddress = silo.AdminUrl };
        using var ready = await http.GetAsync(new Uri("health/ready", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var damage = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/v1/damage", UriKind.Relative)));
        var events = damage.RootElement.GetProperty("events").EnumerateArray()
            .Select(e => (Kind: e.GetProperty("kind").GetString(), Action: e.GetProperty("action").GetString(), File: e.GetProperty("file").GetString()))
            .ToList();
        Assert.Contains(("cursor", "Reset", cursor), events);
        Assert.Contains(events, e => e.Action == "Reset" && e.File == shippingIncarnation);
        Assert.Contains(("topics", "Rebuilt", registry), events);
        Assert.Contains(("reminders", "Rebuilt", reminders), events);
        Assert.Contains(("topic", "Unrecoverable", audit), events);
        Assert.True(silo.HasLogged("Damaged cursor state file"), string.Join('\n', silo.RecentOutput.TakeLast(50)));
    }
}
