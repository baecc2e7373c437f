using Granary.Grains.Cursors;
using Granary.Grains.Hosting;
using Granary.Grains.Hosting.StateFiles;
using Granary.Storage;
using Granary.Tests.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;

namespace Granary.Tests.Cursors;

/// <summary>
/// A cursor saved by an earlier version (its whole <see cref="CursorState"/> as grain state, no state log) continues
/// from that state: it becomes the log's snapshot and the old state is removed; nothing acknowledged comes again.
/// </summary>
public sealed class CursorStateMigrationTests
{
    private static readonly ServiceProvider Services = new ServiceCollection()
        .AddSerializer(s => s.AddAssembly(typeof(FileGrainStorage).Assembly)).BuildServiceProvider();

    [Fact]
    public async Task OldFormatState_BecomesTheLogsSnapshot_AndAckedMessagesAreNotDeliveredAgain()
    {
        using var data = new TempDirectory();
        string stateDirectory = Path.Combine(data.Path, "state");
        string logPath = CursorStateLog.PathFor(Path.Combine(stateDirectory, FileCursorStateStore.FolderName), "orders/billing/0");
        await using (var silo = await SiloOnDirectory.StartAsync(data.Path))
        {
            await silo.Client.Admin.CreateTopicAsync("orders", new TopicOptions { Partitions = 1 });
            await using var producer = silo.Client.CreateProducer("orders");
            for (int i = 0; i < 10; i++) await producer.SendAsync(new OutgoingMessage(BitConverter.GetBytes(i)));
            await using var consumer = silo.Client.CreateConsumer("orders", "billing");
            await consumer.StartAsync(); // the group and its cursor exist (the cursor's incarnation is recorded)
        }
        // As an earlier version left it: grain state only. 0-2 done, 5 and 7 acknowledged, 4 delivered twice.
        File.Delete(logPath);
        var storage = new FileGrainStorage(stateDirectory, Services.GetRequiredService<Serializer>(), Services.GetRequiredService<IActivatorProvider>(),
            new StateDamageLog(NullLogger<StateDamageLog>.Instance, TimeProvider.System));
        var cursor = GrainId.Create("granary.cursor", GrainKeys.Cursor("orders", "billing", 0));
        var old = new StoredState<CursorState>();
        await storage.ReadStateAsync("cursor", cursor, old);
        Assert.False(old.RecordExists);
        old.State = new CursorState { CommittedOffset = 3, AckedAbove = [5, 7], Attempts = { [4] = 2 } };
        await storage.WriteStateAsync("cursor", cursor, old);

        await using var restarted = await SiloOnDirectory.StartAsync(data.Path);
        Assert.Equal(5, (await restarted.Client.Admin.GetLagAsync("orders", "billing")).TotalLag);
        await using var again = restarted.Client.CreateConsumer("orders", "billing");
        var received = await Eventually.CollectAsync(again.ReadAllAsync(), r => r.Count >= 5, onEach: m => m.AckConfirmedAsync());
        Assert.Equal([3, 4, 6, 8, 9], received.Select(m => BitConverter.ToInt32(m.Payload.Span)).Order());
        Assert.Equal(3, received.Single(m => BitConverter.ToInt32(m.Payload.Span) == 4).DeliveryAttempt);
        // The old state is gone: the log holds the cursor now.
        var after = new StoredState<CursorState>();
        await storage.ReadStateAsync("cursor", cursor, after);
        Assert.False(after.RecordExists);
        Assert.Equal(3, CursorStateLog.Read(logPath, "orders/billing/0")!.Snapshot!.Committed);
    }
}
