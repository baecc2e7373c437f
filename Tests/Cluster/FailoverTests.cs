namespace Granary.Tests.Cluster;

/// <summary>
/// Cluster mode end to end: three real silo processes on a throwaway PostgreSQL, topics replicated to all three,
/// producers under acks All while silos are killed with SIGKILL.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class FailoverTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task KillingASilo_LosesNoConfirmedMessage_ConsumersResume_AndTheRestartedSiloCatchesUp()
    {
        await using var cluster = await SiloCluster.StartAsync(postgres, 3);
        await using var client = await cluster.ConnectWithTopicAsync("orders", partitions: 3);
        var described = await client.Admin.DescribeTopicAsync("orders");
        Assert.Equal(3, described.Config.ReplicationFactor);
        Assert.Equal(2, described.Config.MinInSyncReplicas);

        // The workload's client finds the gateways in the membership table; the admin one was given them.
        await using var viaDatabase = await cluster.ConnectThroughDatabaseAsync();
        await using var work = new ClusterWorkload(viaDatabase, "orders");
        await work.ConfirmMoreAsync(300, Long);
        await Eventually.UntilAsync(() => work.Received.Count >= 100, Long);

        // Every silo leads one of the three partitions: killing any one fails a leader over.
        var killedAt = work.Now;
        await cluster.Silos[0].KillAsync();
        await work.ConfirmMoreAsync(300, Long);
        // Resumed: the consumer gets messages again (ones confirmed after the kill).
        await Eventually.UntilAsync(() => work.Received.Values.Any(t => t > killedAt + TimeSpan.FromSeconds(0.5)), Long);
        var resumed = work.Received.Values.Where(t => t > killedAt).Min() - killedAt;
        output.WriteLine($"first delivery after the kill: {resumed.TotalSeconds:F1} s; send errors: {work.SendErrors.Count}");

        cluster.Silos[0].Start();
        await ClusterWorkload.WaitForSilosAsync(client, 3);
        await Eventually.UntilAsync(async () =>
            (await client.Admin.DescribeTopicAsync("orders")).PartitionDetails.All(p => p.InSyncReplicas?.Length == 3), Long);

        await cluster.Silos[1].KillAsync();
        await work.ConfirmMoreAsync(300, Long);

        await work.StopAndCheckNothingLostAsync(Long);
        Assert.True(resumed < TimeSpan.FromSeconds(15), $"consumers resumed {resumed.TotalSeconds:F1} s after the kill");
    }

    [Fact]
    public async Task AFourthSilo_TakesOverPartitionLeadersWhileTrafficFlows_ThenLeavesPolitely_AndNothingIsLost()
    {
        await using var cluster = await SiloCluster.StartAsync(postgres, 3);
        await using var client = await cluster.ConnectWithTopicAsync("events", partitions: 8);

        await using var work = new ClusterWorkload(client, "events");
        await work.ConfirmMoreAsync(300, Long);
        var fourth = cluster.Add();
        fourth.Start();
        await ClusterWorkload.WaitForSilosAsync(client, 4);
        // Leaders check their placement every 10 s; some of the 8 move to the new silo, with their replicas caught up.
        string newSilo = $":{fourth.SiloPort}:";
        await Eventually.UntilAsync(async () => (await client.Admin.DescribeTopicAsync("events")).PartitionDetails
            .Any(p => p.Silo.Contains(newSilo, StringComparison.Ordinal) && p.InSyncReplicas?.Length == 3), Long);
        await work.ConfirmMoreAsync(300, Long);

        // Stopped with SIGTERM: its partitions deactivate (logs flushed) and are led elsewhere.
        await fourth.StopAsync(TimeSpan.FromSeconds(60));
        await ClusterWorkload.WaitForSilosAsync(client, 3);
        await Eventually.UntilAsync(async () => (await client.Admin.DescribeTopicAsync("events")).PartitionDetails
            .All(p => !p.Silo.Contains(newSilo, StringComparison.Ordinal)), Long);
        await work.ConfirmMoreAsync(300, Long);

        await work.StopAndCheckNothingLostAsync(Long);
    }

    [Fact]
    public async Task PostgresDownForSeconds_UnderLoad_LosesNothingConfirmed_AndTheClusterRecovers()
    {
        await using var cluster = await SiloCluster.StartAsync(postgres, 3);
        await using var client = await cluster.ConnectWithTopicAsync("payments", partitions: 3);

        await using var work = new ClusterWorkload(client, "payments");
        await work.ConfirmMoreAsync(300, Long);
        await postgres.Server.StopServerAsync();
        try
        {
            // Leaders already active keep appending without the database; what cannot proceed fails retriably or waits.
            await work.ConfirmMoreAsync(100, Long);
        }
        finally
        {
            await postgres.Server.StartServerAsync();
        }
        await work.ConfirmMoreAsync(300, Long);
        await ClusterWorkload.WaitForSilosAsync(client, 3);

        await work.StopAndCheckNothingLostAsync(Long);
        Assert.All(work.SendErrors, e => Assert.True(e.IsRetriable || e.Code == ErrorCode.Timeout, e.Message));
    }
}
