using Granary.Client;

namespace Granary.Samples.Snippets;

/// <summary>README: Replication (a cluster on PostgreSQL membership; needs Granary.Client.Clustering.AdoNet).</summary>
public static class Cluster
{
    /// <summary>Connects through the membership table and creates a replicated topic.</summary>
    public static async Task ConnectThroughMembershipAsync()
    {
        // <connect-membership>
        await using var client = await GranaryClient.ConnectAsync(new GranaryClientOptions { ConnectionString = "Host=127.0.0.1;Port=55432;Username=postgres;Database=granary" });
        await client.Admin.CreateTopicAsync("orders", new TopicOptions { Partitions = 4 });   // ReplicationFactor 3, MinInSyncReplicas 2
        await using var producer = client.CreateProducer("orders");                          // Acks.All
        // </connect-membership>
    }
}
