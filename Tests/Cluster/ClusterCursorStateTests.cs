using Granary.Grains.Cursors;
using Granary.Grains.Delivery;
using Granary.LoadTest.Targets;
using Microsoft.Extensions.Time.Testing;

namespace Granary.Tests.Cluster;

/// <summary>
/// Cluster mode keeps cursor state logs in PostgreSQL (<c>granary_cursor_frames</c>): sparse acks, once saved, survive
/// the silo being killed with SIGKILL and restarted, and only the unacknowledged messages come again.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterCursorStateTests(PostgresFixture postgres)
{
    private const int Messages = 40;
    private static readonly ConsumerOptions NoExpiry = new() { AckTimeout = ClientTestExtensions.NoExpiry };

    [Fact]
    public async Task SparseAcks_SurviveASiloKill_InClusterMode()
    {
        string connectionString = await postgres.CreateDatabaseAsync();
        using var data = new TempDirectory();
        await using var silo = SiloProcess.ClusterMember(data.Path, connectionString, "node0");
        silo.Start();
        await using (var client = await silo.ConnectAsync())
        {
            await client.Admin.CreateTopicAsync("orders", new TopicOptions { Partitions = 1, ReplicationFactor = 1, MinInSyncReplicas = 1 });
            await using var producer = client.CreateProducer("orders");
            for (int i = 0; i < Messages; i++) await producer.SendAsync(new OutgoingMessage(BitConverter.GetBytes(i)));
            await using var consumer = client.CreateConsumer("orders", "billing", NoExpiry);
            var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= Messages);
            foreach (var message in received.Where(m => BitConverter.ToInt32(m.Payload.Span) % 2 == 0)) await message.AckConfirmedAsync();
            // Durable once the cursor's next save is in the table.
            using var store = new PostgresCursorStateStore(connectionString);
            await Eventually.UntilAsync(async () => await SavedAckedAsync(store) == Messages / 2, TimeSpan.FromMinutes(2));
            await silo.KillAsync();
        }

        silo.Start();
        await using var restarted = await silo.ConnectAsync();
        Assert.Equal(Messages / 2, (await restarted.Admin.GetLagAsync("orders", "billing")).TotalLag);
        await using var again = restarted.CreateConsumer("orders", "billing", NoExpiry);
        var redelivered = await Eventually.CollectAsync(again.ReadAllAsync(), r => r.Count >= Messages / 2, TimeSpan.FromMinutes(2), m => m.AckConfirmedAsync());
        Assert.Equal(Enumerable.Range(0, Messages).Where(i => i % 2 == 1), redelivered.Select(m => BitConverter.ToInt32(m.Payload.Span)).Order());
    }

    private static async Task<long> SavedAckedAsync(PostgresCursorStateStore store)
    {
        using var log = await store.OpenAsync("orders/billing/0");
        if (log.Loaded.Snapshot is not { } snapshot) return -1;
        var state = new DeliveryState(new FakeTimeProvider());
        state.Restore(snapshot);
        foreach (var delta in log.Loaded.Deltas) state.Replay(delta);
        return state.Committed + state.AckedCount;
    }
}
