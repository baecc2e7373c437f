namespace Granary.Tests.Broker;

/// <summary>
/// Measures the allocations of pulling and acknowledging through the real cursor grain, per message, in the test
/// process (silos, client and Orleans' messaging together: an upper bound for the cursor). Explicit: run it alone
/// (<c>-method</c>), since tests running in parallel allocate in the same process.
/// </summary>
[Collection(BrokerCluster.Name)]
public sealed class CursorPullAllocationMeasurement(BrokerClusterFixture fixture, ITestOutputHelper output)
{
    private const int Messages = 20_000, PerPull = 500;

    [Fact(Explicit = true)]
    public async Task PullAndAck_AllocatesAFewHundredBytesPerMessage_InTheWholeProcess()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await fixture.Client.Admin.CreateTopicAsync(topic);
        var partition = fixture.Cluster.SiloGrainFactory().GetGrain<IPartitionGrain>($"{topic}/0");
        for (int b = 0; b < Messages / 1000; b++)
            await partition.AppendAsync(new MessageBatch([.. Enumerable.Range(0, 1000).Select(_ => new Message(null, new byte[100], null))]));
        var cursor = fixture.Cluster.SiloGrainFactory().GetGrain<IPartitionCursorGrain>($"{topic}/g/0");
        await DrainAsync(cursor, 2_000); // warm up: activation, first fetches, JIT

        long before = GC.GetTotalAllocatedBytes(precise: true);
        int drained = await DrainAsync(cursor, Messages - 2_000);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        output.WriteLine($"{drained} messages pulled and acked: {allocated} bytes, {(double)allocated / drained:F0} per message (whole process)");
        Assert.True(allocated / drained < 4_096, $"{allocated / drained} bytes per message");
    }

    private static async Task<int> DrainAsync(IPartitionCursorGrain cursor, int count)
    {
        int done = 0;
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (done < count && DateTime.UtcNow < deadline)
        {
            var pulled = await cursor.PullAsync("A", Math.Min(PerPull, count - done), ClientTestExtensions.NoExpiry, TimeSpan.FromSeconds(1));
            if (pulled.Count == 0) continue;
            await cursor.AckAsync("A", [.. pulled.Leases.Select(l => l.Ref)]);
            done += pulled.Count;
        }
        return done;
    }
}
