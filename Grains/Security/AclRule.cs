namespace Granary.Grains.Security;

/// <summary>One permission rule: <paramref name="Principal"/> may (or may not) do <paramref name="Operation"/> to the resources it names.</summary>
/// <param name="Id">Identifies the rule, to remove it.</param>
/// <param name="Principal">The principal's name, or <c>*</c> for every authenticated principal.</param>
/// <param name="ResourceType">The kind of resource.</param>
/// <param name="Name">The resource's name or name prefix; <c>*</c> with <see cref="AclPatternType.Exact"/> for every resource.</param>
/// <param name="PatternType">Whether <paramref name="Name"/> is a whole name or a prefix.</param>
/// <param name="Operation">The operation, or <see cref="AclOperation.All"/>.</param>
/// <param name="Effect">Allow or deny.</param>
/// <param name="Created">When the rule was made.</param>
/// <param name="CreatedBy">Who made it.</param>
public sealed record AclRule(
    Guid Id, string Principal, ResourceType ResourceType, string Name, AclPatternType PatternType,
    AclOperation Operation, AclEffect Effect, DateTimeOffset Created, string CreatedBy)
{
    /// <summary>The wildcard for <see cref="Principal"/> and, with <see cref="AclPatternType.Exact"/>, for <see cref="Name"/>.</summary>
    public const string Any = "*";

    /// <summary>True when this rule speaks of <paramref name="principal"/> doing <paramref name="operation"/> to the named resource.</summary>
    public bool Matches(string principal, ResourceType resourceType, string name, AclOperation operation) =>
        ResourceType == resourceType
        && (Operation == AclOperation.All || Operation == operation)
        && (Principal == Any || string.Equals(Principal, principal, StringComparison.Ordinal))
        && MatchesName(name);

    private bool MatchesName(string name) => PatternType switch
    {
        AclPatternType.Exact => Name == Any || string.Equals(Name, name, StringComparison.Ordinal),
        AclPatternType.Prefix => name.StartsWith(Name, StringComparison.Ordinal),
        _ => false,
    };

    /// <summary>
    /// Why the rule's values are unusable, or null: a principal name (or <c>*</c>), a resource name of at most 512
    /// characters (the cluster's name is <c>*</c>), a known operation and effect.
    /// </summary>
    public static string? Problem(string principal, ResourceType resourceType, string name, AclPatternType patternType, AclOperation operation, AclEffect effect)
    {
        if (principal != Any && !PrincipalNames.IsValid(principal)) return $"Principal '{principal}' is not a valid principal name ({PrincipalNames.Rule}) or '*'.";
        if (!Enum.IsDefined(resourceType)) return $"Unknown resource type '{resourceType}'.";
        if (!Enum.IsDefined(patternType)) return $"Unknown pattern type '{patternType}'.";
        if (!Enum.IsDefined(operation)) return $"Unknown operation '{operation}'.";
        if (!Enum.IsDefined(effect)) return $"Unknown effect '{effect}'.";
        if (name is null || name.Length > 512 || name.Any(char.IsControl)) return "The resource name must be at most 512 printable characters.";
        if (resourceType == ResourceType.Cluster && (name != Any || patternType != AclPatternType.Exact)) return "A cluster rule names the cluster as '*' (exact).";
        if (patternType == AclPatternType.Exact && name.Length == 0) return "An exact rule needs a resource name ('*' for every resource).";
        return null;
    }
}
