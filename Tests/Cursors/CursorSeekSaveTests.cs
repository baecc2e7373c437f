using Granary.Grains.Cursors;
using Granary.Grains.Delivery;
using Granary.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Granary.Tests.Cursors;

/// <summary>A seek is answered once the cursor's new position is in its state log (written as a snapshot).</summary>
public sealed class CursorSeekSaveTests
{
    [Fact]
    public async Task SeekIsAnswered_AfterTheNewPositionIsSaved()
    {
        using var data = new TempDirectory();
        string logPath = CursorStateLog.PathFor(Path.Combine(data.Path, "state", FileCursorStateStore.FolderName), "orders/billing/0");
        await using var silo = await SiloOnDirectory.StartAsync(data.Path);
        await silo.Client.Admin.CreateTopicAsync("orders", new TopicOptions { Partitions = 1 });
        await using var producer = silo.Client.CreateProducer("orders");
        for (int i = 0; i < 10; i++) await producer.SendAsync(new OutgoingMessage(BitConverter.GetBytes(i)));
        await using (var consumer = silo.Client.CreateConsumer("orders", "billing"))
        {
            await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 10, onEach: m => m.AckConfirmedAsync());
        }
        await Eventually.UntilAsync(() => SavedCommitted(logPath) == 10);

        await silo.Client.Admin.SeekAsync("orders", "billing", SeekTarget.Earliest);
        // No waiting: the answer came after the save.
        Assert.Equal(0, SavedCommitted(logPath));
    }

    private static long SavedCommitted(string path)
    {
        if (CursorStateLog.Read(path, "orders/billing/0") is not { Snapshot: { } snapshot } load) return -1;
        var state = new DeliveryState(new FakeTimeProvider());
        state.Restore(snapshot);
        foreach (var delta in load.Deltas) state.Replay(delta);
        return state.Committed;
    }
}
