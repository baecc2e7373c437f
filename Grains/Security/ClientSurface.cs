namespace Granary.Grains.Security;

/// <summary>
/// The grain interfaces and methods clients may call: exactly those the SDK (<c>ClientSdk</c>) calls, each with the
/// permission it needs once security is on (<see cref="SurfacePermission"/>). Every other method of Granary's grain
/// interfaces is silo-internal (replication, leadership, bookkeeping between grains) and is refused from clients by
/// <see cref="InternalCallGate"/>. A new SDK call needs its method added here. Orleans' management grain, which the SDK
/// uses to list the cluster's silos, is checked too: listing needs Describe on the cluster, anything else Admin.
/// </summary>
public static class ClientSurface
{
    private static readonly SurfacePermission DescribeTopic = SurfacePermission.OnTopic(AclOperation.Describe);
    private static readonly SurfacePermission DescribeCluster = SurfacePermission.OnCluster(AclOperation.Describe);

    /// <summary>What Orleans' management grain needs for methods not listed: administering the cluster.</summary>
    public static SurfacePermission ManagementDefault { get; } = SurfacePermission.OnCluster(AclOperation.Admin);

    private static readonly Dictionary<Type, Dictionary<string, SurfacePermission>> Table = new()
    {
        [typeof(ITopicGrain)] = new(StringComparer.Ordinal)
        {
            [nameof(ITopicGrain.CreateAsync)] = SurfacePermission.OnTopic(AclOperation.Create, "topic.create"),
            [nameof(ITopicGrain.GetConfigAsync)] = DescribeTopic,
            [nameof(ITopicGrain.DescribeAsync)] = DescribeTopic,
            [nameof(ITopicGrain.GetGroupsAsync)] = DescribeTopic,
            [nameof(ITopicGrain.DeleteAsync)] = SurfacePermission.OnTopic(AclOperation.Delete, "topic.delete"),
            [nameof(ITopicGrain.AddPartitionsAsync)] = SurfacePermission.OnTopic(AclOperation.Alter, "topic.add-partitions"),
            [nameof(ITopicGrain.AlterAsync)] = SurfacePermission.OnTopic(AclOperation.Alter, "topic.alter"),
        },
        [typeof(ITopicRegistryGrain)] = new(StringComparer.Ordinal)
        {
            [nameof(ITopicRegistryGrain.ListAsync)] = SurfacePermission.TopicListing,
        },
        [typeof(IConsumerGroupGrain)] = new(StringComparer.Ordinal)
        {
            [nameof(IConsumerGroupGrain.JoinAsync)] = SurfacePermission.Consuming,
            [nameof(IConsumerGroupGrain.HeartbeatAsync)] = SurfacePermission.Consuming,
            [nameof(IConsumerGroupGrain.LeaveAsync)] = SurfacePermission.Consuming,
            [nameof(IConsumerGroupGrain.SeekAsync)] = new(AclOperation.Consume, AclOperation.Alter, AuditAction: "group.seek"),
            [nameof(IConsumerGroupGrain.RedriveAsync)] = new(AclOperation.Consume, AclOperation.Alter, AuditAction: "group.redrive"),
            [nameof(IConsumerGroupGrain.GetLagAsync)] = new(null, AclOperation.Describe),
            [nameof(IConsumerGroupGrain.DescribeAsync)] = new(null, AclOperation.Describe),
        },
        [typeof(IPartitionCursorGrain)] = new(StringComparer.Ordinal)
        {
            [nameof(IPartitionCursorGrain.PullAsync)] = SurfacePermission.Consuming,
            [nameof(IPartitionCursorGrain.PullRunsAsync)] = SurfacePermission.Consuming,
            [nameof(IPartitionCursorGrain.AckAsync)] = SurfacePermission.Consuming,
            [nameof(IPartitionCursorGrain.AckRunsAsync)] = SurfacePermission.Consuming,
            [nameof(IPartitionCursorGrain.NackAsync)] = SurfacePermission.Consuming,
            [nameof(IPartitionCursorGrain.RejectAsync)] = SurfacePermission.Consuming,
            [nameof(IPartitionCursorGrain.RejectWithReasonAsync)] = SurfacePermission.Consuming,
            [nameof(IPartitionCursorGrain.ExtendAsync)] = SurfacePermission.Consuming,
            [nameof(IPartitionCursorGrain.ReleaseUnseenAsync)] = SurfacePermission.Consuming,
        },
        [typeof(IPartitionGrain)] = new(StringComparer.Ordinal)
        {
            [nameof(IPartitionGrain.AppendAsync)] = SurfacePermission.OnTopic(AclOperation.Produce),
            [nameof(IPartitionGrain.FetchAsync)] = SurfacePermission.OnTopic(AclOperation.Consume),
        },
        [typeof(IClientSessionGrain)] = new(StringComparer.Ordinal)
        {
            [nameof(IClientSessionGrain.SignInWithCertificateAsync)] = SurfacePermission.SigningIn,
        },
        // IPartitionReplicaGrain: none, it is entirely silo-internal.
        [typeof(IManagementGrain)] = new(StringComparer.Ordinal)
        {
            [nameof(IManagementGrain.GetHosts)] = DescribeCluster,
            [nameof(IManagementGrain.GetDetailedHosts)] = DescribeCluster,
            [nameof(IManagementGrain.GetRuntimeStatistics)] = DescribeCluster,
        },
    };

    /// <summary>True for Granary's own grain interfaces (the <c>Grains.Interfaces</c> assembly): only these are closed to clients outside the surface.</summary>
    public static bool IsGranaryInterface(Type? interfaceType) => interfaceType is not null && interfaceType.Assembly == typeof(ITopicGrain).Assembly;

    /// <summary>
    /// True for the interfaces whose calls are checked: Granary's own and Orleans' management grain (which can list
    /// the cluster and also force collections); silos stamp their calls to these.
    /// </summary>
    public static bool IsGated(Type? interfaceType) => IsGranaryInterface(interfaceType) || interfaceType == typeof(IManagementGrain);

    /// <summary>
    /// What a client's call of <paramref name="method"/> needs, or null for a silo-internal method of a Granary
    /// interface (or an interface not gated at all).
    /// </summary>
    public static SurfacePermission? PermissionOf(Type interfaceType, string method)
    {
        if (!Table.TryGetValue(interfaceType, out var methods)) return null;
        if (methods.TryGetValue(method, out var permission)) return permission;
        return interfaceType == typeof(IManagementGrain) ? ManagementDefault : null;
    }
}
