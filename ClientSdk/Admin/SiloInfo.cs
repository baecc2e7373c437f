namespace Granary.Client;

/// <summary>One silo of the cluster and its load, as the cluster's membership and runtime statistics report it.</summary>
/// <param name="Address">Its address (endpoint and generation).</param>
/// <param name="Name">Its name (the node name in cluster mode).</param>
/// <param name="Host">Its host name.</param>
/// <param name="Status">Membership status: <c>Active</c>, <c>Joining</c>, <c>ShuttingDown</c>, <c>Dead</c>, ...</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="GatewayPort">Port clients connect to; 0 when it is no gateway.</param>
/// <param name="Activations">Grain activations on it; null when it did not answer.</param>
/// <param name="Clients">Clients connected to it; null when it did not answer.</param>
/// <param name="CpuPercent">CPU use of its machine (0-100); null when unknown.</param>
/// <param name="ManagedMemoryBytes">Managed memory its process uses (smoothed, as Orleans reports it); null when unknown.</param>
/// <param name="IsOverloaded">True when Orleans sheds load on it.</param>
public sealed record SiloInfo(
    string Address,
    string Name,
    string Host,
    string Status,
    DateTimeOffset StartedAt,
    int GatewayPort,
    int? Activations,
    long? Clients,
    float? CpuPercent,
    long? ManagedMemoryBytes,
    bool IsOverloaded);
