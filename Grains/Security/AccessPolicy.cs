namespace Granary.Grains.Security;

/// <summary>
/// Decides whether a principal may do an operation to a resource: superusers may do everything; otherwise a matching
/// deny rule refuses, whatever allows it; else a matching allow rule permits; else the answer is no (default deny).
/// Describe is implied by any other operation the principal may do to the same resource, as in Kafka.
/// </summary>
public sealed class AccessPolicy
{
    private readonly IReadOnlyList<AclRule> _rules;
    private readonly HashSet<string> _superusers;

    /// <summary>A policy of <paramref name="rules"/>, under which <paramref name="superusers"/> (and the bootstrap principal) may do everything.</summary>
    public AccessPolicy(IReadOnlyList<AclRule> rules, IEnumerable<string> superusers)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(superusers);
        _rules = rules;
        _superusers = new HashSet<string>(superusers, StringComparer.Ordinal);
    }

    /// <summary>True when <paramref name="principal"/> passes every check.</summary>
    public bool IsSuperuser(Principal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return principal.Kind == AuthenticationKind.Bootstrap || _superusers.Contains(principal.Name);
    }

    /// <summary>True when <paramref name="principal"/> may do <paramref name="operation"/> to the resource <paramref name="name"/> of <paramref name="resourceType"/>.</summary>
    public bool IsAllowed(Principal principal, ResourceType resourceType, string name, AclOperation operation)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(name);
        if (operation == AclOperation.All) throw new ArgumentOutOfRangeException(nameof(operation), "Ask about one operation; All exists only in rules.");
        if (IsSuperuser(principal)) return true;
        if (principal.Kind == AuthenticationKind.Anonymous) return false;
        var decision = Decide(principal.Name, resourceType, name, operation);
        if (decision is not null) return decision.Value;
        if (operation != AclOperation.Describe) return false;
        foreach (var implying in Enum.GetValues<AclOperation>())
        {
            if (implying is AclOperation.Describe or AclOperation.All) continue;
            if (Decide(principal.Name, resourceType, name, implying) == true) return true;
        }
        return false;
    }

    /// <summary>False when a rule denies, true when one allows and none denies, null when no rule speaks.</summary>
    private bool? Decide(string principal, ResourceType resourceType, string name, AclOperation operation)
    {
        bool allowed = false;
        foreach (var rule in _rules)
        {
            if (!rule.Matches(principal, resourceType, name, operation)) continue;
            if (rule.Effect == AclEffect.Deny) return false;
            allowed = true;
        }
        return allowed ? true : null;
    }
}
