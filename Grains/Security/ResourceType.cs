namespace Granary.Grains.Security;

/// <summary>What a permission rule applies to.</summary>
public enum ResourceType
{
    /// <summary>The cluster as a whole (its name is always <c>*</c>): listing nodes, damage reports, keys, rules, audit.</summary>
    Cluster,

    /// <summary>A topic, by name.</summary>
    Topic,

    /// <summary>A consumer group, named <c>{topic}/{group}</c>: a group belongs to its topic.</summary>
    Group,
}
