namespace Granary.Client.Clustering.AdoNet;

/// <summary>
/// Reads the cluster's gateways from its PostgreSQL membership table. The client calls it when
/// <see cref="GranaryClientOptions.ConnectionString"/> is set; referencing this package is all an application does.
/// </summary>
public static class AdoNetGatewayDiscovery
{
    /// <summary>Configures <paramref name="client"/> to find gateways in the membership table at <paramref name="connectionString"/>.</summary>
    public static void Apply(IClientBuilder client, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(client);
        client.UseAdoNetClustering(o => { o.Invariant = "Npgsql"; o.ConnectionString = connectionString; });
    }
}
