using Granary.Tests.Cluster;

namespace Granary.Tests.Security;

/// <summary>
/// Real silo processes in cluster mode with mutual TLS: silos whose certificates the same CA issued form a cluster
/// and replicate to each other over TLS; a silo with a certificate from another CA cannot join.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterTlsTests(PostgresFixture postgres)
{
    [Fact]
    public async Task SilosOfTheTrustedCa_ReplicateOverTls_AndASiloOfAnotherCa_CannotJoin()
    {
        using var directory = new TempDirectory();
        var trusted = TestCertificates.Create(directory.Path, "trusted");
        var untrusted = TestCertificates.Create(directory.Path, "untrusted");
        string connectionString = await postgres.CreateDatabaseAsync();
        string[] Tls(TestCertificates certificates) =>
        [
            "--Granary:Tls:Enabled=true",
            "--Granary:Tls:MutualTls=true",
            $"--Granary:Tls:CertificatePath={certificates.SiloCertificatePath}",
            $"--Granary:Tls:KeyPath={certificates.SiloKeyPath}",
            $"--Granary:Tls:TrustedCaPath={certificates.CaPath}",
        ];
        await using var first = SiloProcess.ClusterMember(Path.Combine(directory.Path, "node0"), connectionString, "node0", Tls(trusted));
        await using var second = SiloProcess.ClusterMember(Path.Combine(directory.Path, "node1"), connectionString, "node1", Tls(trusted));
        first.Start();
        second.Start();

        var options = first.ClientOptions();
        options.Gateways = [$"127.0.0.1:{first.GatewayPort}", $"127.0.0.1:{second.GatewayPort}"];
        options.ConnectTimeout = TimeSpan.FromSeconds(120);
        options.Tls = new GranaryClientTlsOptions
        {
            Enabled = true, TrustedCaPath = trusted.CaPath, CertificatePath = trusted.ClientCertificatePath, KeyPath = trusted.ClientKeyPath,
        };
        await using var client = await GranaryClient.ConnectAsync(options);
        await ClusterWorkload.WaitForSilosAsync(client, 2);
        // Two replicas, both required for a confirmed send: the leader's copy reached the other silo over TLS.
        await client.Admin.CreateTopicAsync("tls-replicated", new TopicOptions { Partitions = 2, ReplicationFactor = 2, MinInSyncReplicas = 2 });
        await using var producer = client.CreateProducer("tls-replicated", new ProducerOptions { Acks = Acks.All, MaxRetries = 20 });
        for (int i = 0; i < 10; i++) await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"m{i}")) { Key = $"k{i}" });
        await using var consumer = client.CreateConsumer("tls-replicated", "g", new ConsumerOptions { AckTimeout = ClientTestExtensions.NoExpiry, PollWait = TimeSpan.FromMilliseconds(200) });
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 10, TimeSpan.FromSeconds(120), m => m.AckAsync());
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"m{i}").Order(), received.Select(m => Encoding.UTF8.GetString(m.Payload.Span)).Order());

        // A silo of another CA: the cluster's silos refuse its connections (and it theirs), so it cannot validate its
        // connectivity to the active silos and gives up after its (shortened) join time.
        await using var rogue = SiloProcess.ClusterMember(Path.Combine(directory.Path, "rogue"), connectionString, "rogue",
            [.. Tls(untrusted), "--Granary:Membership:MaxJoinAttemptTime=00:00:30"]);
        rogue.Start();
        await Eventually.UntilAsync(() => !rogue.IsRunning, TimeSpan.FromSeconds(180));
        Assert.True(rogue.HasLogged("Failed to get ping responses"), string.Join('\n', rogue.RecentOutput.TakeLast(60)));
        // The rogue opens connections to the active silos to check it can reach them; they log why they refused.
        await Eventually.UntilAsync(() => first.HasLogged("TLS: refused the silo connection") || second.HasLogged("TLS: refused the silo connection"));
        Assert.Equal(2, (await client.Admin.GetActiveSilosAsync()).Length);
        await producer.SendAsync(new OutgoingMessage("after the rogue"u8.ToArray()));
    }
}
