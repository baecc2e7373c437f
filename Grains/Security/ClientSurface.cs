namespace Granary.Grains.Security;

/// <summary>
/// The grain interfaces and methods clients may call: exactly those the SDK (<c>ClientSdk</c>) calls. Every other
/// method of Granary's grain interfaces is silo-internal (replication, leadership, bookkeeping between grains) and is
/// refused from clients by <see cref="InternalCallGate"/>. A new SDK call needs its method added here.
/// </summary>
public static class ClientSurface
{
    private static readonly Dictionary<Type, HashSet<string>> Allowed = new()
    {
        [typeof(ITopicGrain)] = [nameof(ITopicGrain.CreateAsync), nameof(ITopicGrain.GetConfigAsync), nameof(ITopicGrain.DescribeAsync),
            nameof(ITopicGrain.DeleteAsync), nameof(ITopicGrain.GetGroupsAsync), nameof(ITopicGrain.AddPartitionsAsync), nameof(ITopicGrain.AlterAsync)],
        [typeof(ITopicRegistryGrain)] = [nameof(ITopicRegistryGrain.ListAsync)],
        [typeof(IConsumerGroupGrain)] = [nameof(IConsumerGroupGrain.JoinAsync), nameof(IConsumerGroupGrain.HeartbeatAsync),
            nameof(IConsumerGroupGrain.LeaveAsync), nameof(IConsumerGroupGrain.SeekAsync), nameof(IConsumerGroupGrain.GetLagAsync),
            nameof(IConsumerGroupGrain.DescribeAsync), nameof(IConsumerGroupGrain.RedriveAsync)],
        [typeof(IPartitionCursorGrain)] = [nameof(IPartitionCursorGrain.PullAsync), nameof(IPartitionCursorGrain.AckAsync),
            nameof(IPartitionCursorGrain.NackAsync), nameof(IPartitionCursorGrain.RejectAsync), nameof(IPartitionCursorGrain.ExtendAsync),
            nameof(IPartitionCursorGrain.ReleaseUnseenAsync)],
        [typeof(IPartitionGrain)] = [nameof(IPartitionGrain.AppendAsync), nameof(IPartitionGrain.FetchAsync)],
        // IPartitionReplicaGrain: none, it is entirely silo-internal.
    };

    /// <summary>True for Granary's own grain interfaces (the <c>Grains.Interfaces</c> assembly): only these are gated.</summary>
    public static bool IsGranaryInterface(Type? interfaceType) => interfaceType is not null && interfaceType.Assembly == typeof(ITopicGrain).Assembly;

    /// <summary>True when a client may call <paramref name="method"/> of <paramref name="interfaceType"/>.</summary>
    public static bool IsClientFacing(Type interfaceType, string method) =>
        Allowed.TryGetValue(interfaceType, out var methods) && methods.Contains(method);
}
