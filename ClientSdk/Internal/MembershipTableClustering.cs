using System.Reflection;

namespace Granary.Client.Internal;

/// <summary>
/// Gateway discovery from the cluster's membership table (<see cref="GranaryClientOptions.ConnectionString"/>). It lives
/// in the opt-in package Granary.Client.Clustering.AdoNet, because Orleans' ADO.NET clustering brings the Orleans server
/// runtime and Npgsql; the client finds it by name so that a client with a gateway list carries neither.
/// </summary>
internal static class MembershipTableClustering
{
    internal const string PackageId = "Granary.Client.Clustering.AdoNet";
    private const string TypeName = "Granary.Client.Clustering.AdoNet.AdoNetGatewayDiscovery, " + PackageId;

    /// <summary>Configures <paramref name="client"/> to read its gateways from the membership table.</summary>
    /// <exception cref="InvalidOperationException">The package is not referenced.</exception>
    public static void Apply(IClientBuilder client, string connectionString)
    {
        var apply = Type.GetType(TypeName, throwOnError: false)?.GetMethod("Apply", BindingFlags.Public | BindingFlags.Static, [typeof(IClientBuilder), typeof(string)])
            ?? throw new InvalidOperationException(
                $"GranaryClientOptions.ConnectionString finds gateways in the cluster's membership table, which needs the {PackageId} package: add it to the application, or list the gateways in GranaryClientOptions.Gateways instead.");
        apply.Invoke(null, [client, connectionString]);
    }
}
