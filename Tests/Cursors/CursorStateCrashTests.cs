using Granary.Grains.Delivery;
using Granary.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Granary.Tests.Cursors;

/// <summary>
/// Acks in the cursor's state log survive a real silo killed with SIGKILL (no shutdown, no final save): confirmed acks,
/// once the cursor's save (at most 100 ms later) has reached its log, are not delivered again after the restart, and
/// the others are. The acks are sparse (every other message), so they live as acknowledged ranges above the committed
/// offset, not only in it.
/// </summary>
public sealed class CursorStateCrashTests
{
    private const int Messages = 200;
    private static readonly ConsumerOptions NoExpiry = new() { AckTimeout = ClientTestExtensions.NoExpiry };

    [Fact]
    public async Task ConfirmedSparseAcks_SurviveASiloKill_AndOnlyTheUnackedMessagesComeAgain()
    {
        using var data = new TempDirectory();
        await using var silo = new SiloProcess(data.Path);
        silo.Start();
        string logPath = CursorStateLog.PathFor(Path.Combine(data.Path, "state", "cursors"), "orders/billing/0");
        await using (var client = await silo.ConnectAsync())
        {
            await client.Admin.CreateTopicAsync("orders", new TopicOptions { Partitions = 1 });
            await using var producer = client.CreateProducer("orders");
            for (int i = 0; i < Messages; i++) await producer.SendAsync(new OutgoingMessage(BitConverter.GetBytes(i)));
            await using var consumer = client.CreateConsumer("orders", "billing", NoExpiry);
            var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= Messages);
            foreach (var message in received.Where(m => BitConverter.ToInt32(m.Payload.Span) % 2 == 0)) await message.AckConfirmedAsync();
            // Taken by the cursor; durable once its next save is in the log (read here without touching the file).
            await Eventually.UntilAsync(() => SavedAcked(logPath) == Messages / 2);
            await silo.KillAsync();
        }

        silo.Start();
        await using var restarted = await silo.ConnectAsync();
        Assert.Equal(Messages / 2, (await restarted.Admin.GetLagAsync("orders", "billing")).TotalLag);
        await using var again = restarted.CreateConsumer("orders", "billing", NoExpiry);
        var redelivered = await Eventually.CollectAsync(again.ReadAllAsync(), r => r.Count >= Messages / 2, TimeSpan.FromMinutes(2), m => m.AckConfirmedAsync());
        Assert.Equal(Enumerable.Range(0, Messages).Where(i => i % 2 == 1), redelivered.Select(m => BitConverter.ToInt32(m.Payload.Span)).Order());
        Assert.Equal(0, (await restarted.Admin.GetLagAsync("orders", "billing")).TotalLag);
    }

    /// <summary>How many offsets the cursor's state log says are done (committed plus acknowledged above it).</summary>
    private static long SavedAcked(string path)
    {
        if (CursorStateLog.Read(path, "orders/billing/0") is not { Snapshot: { } snapshot } load) return -1;
        var state = new DeliveryState(new FakeTimeProvider());
        state.Restore(snapshot);
        foreach (var delta in load.Deltas) state.Replay(delta);
        return state.Committed + state.AckedCount;
    }
}
