using System.Text.Json.Serialization;
using Granary.Grains.Security;

namespace Granary.Silo.Admin.Models;

/// <summary>A permission rule to add.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed class CreateAclRequest
{
    /// <summary>The principal the rule is about, or <c>*</c> for every authenticated principal.</summary>
    public required string Principal { get; init; }

    /// <summary><c>Cluster</c>, <c>Topic</c> or <c>Group</c>.</summary>
    public required ResourceType ResourceType { get; init; }

    /// <summary>
    /// The topic's name, or the group's as <c>{topic}/{group}</c>, or a prefix of either; <c>*</c> (exact) for every one.
    /// Left out for the cluster, whose name is <c>*</c>.
    /// </summary>
    public string? Name { get; init; }

    /// <summary><c>Exact</c> (default) or <c>Prefix</c>.</summary>
    public AclPatternType? PatternType { get; init; }

    /// <summary>Produce, Consume, Describe, Create, Alter, Delete, Admin or All.</summary>
    public required AclOperation Operation { get; init; }

    /// <summary><c>Allow</c> (default) or <c>Deny</c>; a matching deny wins over any allow.</summary>
    public AclEffect? Effect { get; init; }
}
