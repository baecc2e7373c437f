namespace Granary.Grains.Security;

/// <summary>
/// What a client-surface method needs once security is on: the operations the caller must be allowed on the grain's
/// topic, on its group (<c>{topic}/{group}</c>) and on the cluster (each null when not checked), whether its result is a
/// topic list to filter to what the caller may describe, and the audit action it records when it succeeds.
/// </summary>
/// <param name="Topic">The operation needed on the topic the grain's key names, or null.</param>
/// <param name="Group">The operation needed on the group the grain's key names, or null.</param>
/// <param name="Cluster">The operation needed on the cluster, or null.</param>
/// <param name="AuditAction">The audit log's action for a successful call (e.g. <c>topic.create</c>), or null for calls not audited.</param>
/// <param name="FiltersTopics">True when the method returns topic names, which are cut to those the caller may describe.</param>
/// <param name="OpenToAnonymous">True for the one method a caller without a credential may call: signing in.</param>
public sealed record SurfacePermission(AclOperation? Topic, AclOperation? Group = null, AclOperation? Cluster = null, string? AuditAction = null,
    bool FiltersTopics = false, bool OpenToAnonymous = false)
{
    /// <summary>Signing in, which is how a caller gets its credential: open to callers without one.</summary>
    public static SurfacePermission SigningIn { get; } = new(null, OpenToAnonymous: true);

    /// <summary>Open to every authenticated caller; returns topic names, filtered.</summary>
    public static SurfacePermission TopicListing { get; } = new(null, FiltersTopics: true);

    /// <summary>An operation on the topic.</summary>
    public static SurfacePermission OnTopic(AclOperation operation, string? auditAction = null) => new(operation, AuditAction: auditAction);

    /// <summary>Consuming through a group: Consume on the topic and on the group.</summary>
    public static SurfacePermission Consuming { get; } = new(AclOperation.Consume, AclOperation.Consume);

    /// <summary>An operation on the cluster.</summary>
    public static SurfacePermission OnCluster(AclOperation operation) => new(null, Cluster: operation);

    /// <summary>What the check reads like in an error: <c>consume on topic and consume on group</c>.</summary>
    public override string ToString()
    {
        var parts = new List<string>(3);
        if (Topic is { } topic) parts.Add($"{Name(topic)} on the topic");
        if (Group is { } group) parts.Add($"{Name(group)} on the group");
        if (Cluster is { } cluster) parts.Add($"{Name(cluster)} on the cluster");
        return parts.Count > 0 ? string.Join(" and ", parts) : OpenToAnonymous ? "nothing" : "authentication only";
    }

    private static string Name(AclOperation operation) => operation.ToString().ToLowerInvariant();
}
