using System.Diagnostics;
using Granary.Grains.Security;
using Granary.Grains.Security.Stores;
using Granary.LoadTest.Targets;

namespace Granary.Tests.Cluster;

/// <summary>
/// Security in cluster mode: three silo processes share keys and rules through PostgreSQL; a key written to the store
/// works on every silo, and once revoked in the store every silo refuses it within 5 seconds.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SecurityClusterTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const string BootstrapKey = "cluster-bootstrap-key-0123456789abcdef0123456789";
    private const string Topic = "secured";
    private const int Partitions = 3;
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task ARevokedKey_IsRefusedByEverySilo_WithinFiveSeconds()
    {
        string connectionString = await postgres.CreateDatabaseAsync();
        using var store = new PostgresSecurityStore(connectionString);
        await store.EnsureSchemaAsync();
        var (id, key) = ApiKeys.Generate();
        var now = DateTimeOffset.UtcNow;
        await store.AddKeyAsync(new ApiKeyRecord(id, "app", ApiKeys.Hash(key), now, "test", "written to the store directly", null));
        await store.AddRuleAsync(new AclRule(Guid.NewGuid(), "app", ResourceType.Topic, AclRule.Any, AclPatternType.Exact, AclOperation.All, AclEffect.Allow, now, "test"));

        using var data = new TempDirectory();
        var silos = Enumerable.Range(0, 3).Select(i => SiloProcess.ClusterMember(Path.Combine(data.Path, $"node{i}"), connectionString, $"node{i}",
            "--Granary:Security:Enabled=true", $"--Granary:Security:BootstrapKey={BootstrapKey}")).ToList();
        var clients = new List<GranaryClient>();
        try
        {
            foreach (var silo in silos) silo.Start();
            var admin = await GranaryClient.ConnectAsync(Options(silos, BootstrapKey));
            clients.Add(admin);
            await ClusterWorkload.WaitForSilosAsync(admin, 3);
            await admin.Admin.CreateTopicAsync(Topic, new TopicOptions { Partitions = Partitions });

            // One client per gateway, each producing to every partition: the partitions are led by the three silos
            // in turn, so every silo checks the key.
            foreach (var silo in silos) clients.Add(await GranaryClient.ConnectAsync(Options([silo], key)));
            var producers = clients.Skip(1).Select(c => c.CreateProducer(Topic, new ProducerOptions { MaxRetries = 0 })).ToList();
            foreach (var producer in producers)
                for (int p = 0; p < Partitions; p++) await SendAsync(producer, p);
            var leaders = (await admin.Admin.DescribeTopicAsync(Topic)).PartitionDetails.Select(d => d.Silo).Distinct().Count();
            Assert.Equal(3, leaders);

            Assert.True(await store.RevokeKeyAsync(id, DateTimeOffset.UtcNow));
            var revoked = Stopwatch.StartNew();
            var refusedAfter = await Task.WhenAll(Enumerable.Range(0, Partitions).Select(p => UntilRefusedAsync(producers[p], p, revoked)));
            output.WriteLine($"refused after: {string.Join(", ", refusedAfter.Select(t => $"{t.TotalMilliseconds:F0} ms"))}");
            Assert.All(refusedAfter, t => Assert.True(t < TimeSpan.FromSeconds(5), $"refused only after {t}"));

            // Every client, on every partition, is refused now; the bootstrap key still works.
            foreach (var producer in producers)
                for (int p = 0; p < Partitions; p++)
                    Assert.Equal(GranaryErrorCode.Unauthenticated, (await Assert.ThrowsAsync<GranaryException>(() => SendAsync(producer, p))).Code);
            await using var bootstrapProducer = admin.CreateProducer(Topic);
            await SendAsync(bootstrapProducer, 0);
            foreach (var producer in producers) await producer.DisposeAsync();
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
            foreach (var silo in silos) await silo.DisposeAsync();
        }
    }

    private static GranaryClientOptions Options(IEnumerable<SiloProcess> silos, string apiKey) => new()
    {
        Gateways = silos.Select(s => $"127.0.0.1:{s.GatewayPort}").ToList(),
        ConnectTimeout = TimeSpan.FromSeconds(120),
        RetryRefusedConnections = true, // the silos were just started: their gateways may not listen yet
        ApiKey = apiKey,
    };

    private static Task<SendReceipt> SendAsync(GranaryProducer producer, int partition) =>
        producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"to {partition}")) { Partition = partition });

    /// <summary>Sends to <paramref name="partition"/> until its silo refuses the key; the time since the revocation then.</summary>
    private static async Task<TimeSpan> UntilRefusedAsync(GranaryProducer producer, int partition, Stopwatch sinceRevoked)
    {
        while (sinceRevoked.Elapsed < Long)
        {
            try
            {
                await SendAsync(producer, partition);
            }
            catch (GranaryException e) when (e.Code == GranaryErrorCode.Unauthenticated)
            {
                return sinceRevoked.Elapsed;
            }
            catch (GranaryException e) when (e.IsRetriable)
            {
                // a slow moment of the cluster: try again
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"Partition {partition}'s silo still accepted the revoked key after {Long}.");
    }
}
