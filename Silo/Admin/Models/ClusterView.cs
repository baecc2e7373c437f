using Granary.Client;

namespace Granary.Silo.Admin.Models;

/// <summary>The cluster: its silos, their load and how many partitions each leads.</summary>
/// <param name="Silos">Silos that are not dead.</param>
/// <param name="Topics">Topics.</param>
/// <param name="Partitions">Partitions over all topics.</param>
public sealed record ClusterView(SiloView[] Silos, int Topics, int Partitions);

/// <summary>One silo.</summary>
/// <param name="Address">Address.</param>
/// <param name="Name">Name (node name in cluster mode).</param>
/// <param name="Host">Host name.</param>
/// <param name="Status">Membership status.</param>
/// <param name="StartedAt">Start time.</param>
/// <param name="GatewayPort">Client port.</param>
/// <param name="Activations">Grain activations.</param>
/// <param name="Clients">Connected clients.</param>
/// <param name="CpuPercent">Machine CPU use.</param>
/// <param name="ManagedMemoryBytes">Managed memory in use.</param>
/// <param name="IsOverloaded">Orleans sheds load on it.</param>
/// <param name="PartitionsLed">Partitions it leads now.</param>
public sealed record SiloView(
    string Address, string Name, string Host, string Status, DateTimeOffset StartedAt, int GatewayPort,
    int? Activations, long? Clients, float? CpuPercent, long? ManagedMemoryBytes, bool IsOverloaded, int PartitionsLed)
{
    internal static SiloView From(SiloInfo s, int partitionsLed) => new(
        s.Address, s.Name, s.Host, s.Status, s.StartedAt, s.GatewayPort, s.Activations, s.Clients, s.CpuPercent, s.ManagedMemoryBytes,
        s.IsOverloaded, partitionsLed);
}

/// <summary>Readiness: whether the silo serves, and why not.</summary>
/// <param name="Status"><c>ready</c> or <c>not-ready</c>.</param>
/// <param name="Detail">What failed, when not ready.</param>
public sealed record HealthView(string Status, string? Detail = null);
