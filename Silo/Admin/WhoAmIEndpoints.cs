using Granary;
using Granary.Grains.Security;
using Granary.Silo.Admin.Models;

namespace Granary.Silo.Admin;

/// <summary><c>/api/v1/whoami</c>: who the caller is, and what it may do, so that the console shows only that.</summary>
internal static class WhoAmIEndpoints
{
    /// <summary>The most topics and groups one request may ask about.</summary>
    public const int MaxResources = 200;

    // Describe comes first: it is implied by every other operation allowed, and a client shows it most.
    private static readonly AclOperation[] TopicOperations =
        [AclOperation.Describe, AclOperation.Produce, AclOperation.Consume, AclOperation.Create, AclOperation.Alter, AclOperation.Delete];

    private static readonly AclOperation[] GroupOperations = [AclOperation.Describe, AclOperation.Consume, AclOperation.Alter, AclOperation.Delete];

    public static void MapWhoAmI(this RouteGroupBuilder api) =>
        api.MapGet("/whoami", WhoAmI).WithTags("Security").WithSummary(
            "The caller's principal, how it authenticated, whether security is on, and what it may do: on the cluster, and to each " +
            $"topic (?topic=NAME) and group (?group=TOPIC/GROUP) asked about, at most {MaxResources} in all.");

    private static WhoAmIView WhoAmI(HttpContext context, AdminAccess access, SecurityCatalog catalog, string[]? topic = null, string[]? group = null)
    {
        topic ??= [];
        group ??= [];
        if (topic.Length + group.Length > MaxResources)
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"Ask about at most {MaxResources} topics and groups at once, not {topic.Length + group.Length}.");
        var principal = AdminPrincipal.Of(context);
        bool superuser = !catalog.Enabled || catalog.Policy.IsSuperuser(principal);
        return new WhoAmIView(
            principal.Name, principal.Kind.ToString(), catalog.Enabled, superuser,
            access.IsAllowed(context, ResourceType.Cluster, AclRule.Any, AclOperation.Describe),
            access.IsAllowed(context, ResourceType.Cluster, AclRule.Any, AclOperation.Admin),
            superuser || MayCreateSomeTopic(catalog.Snapshot.Rules, principal),
            Decisions(context, access, topic, ResourceType.Topic, TopicOperations),
            Decisions(context, access, group, ResourceType.Group, GroupOperations));
    }

    private static Dictionary<string, string[]> Decisions(HttpContext context, AdminAccess access, string[] names, ResourceType type, AclOperation[] operations)
    {
        var decisions = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (string name in names)
        {
            decisions[name] = [.. operations.Where(op => access.IsAllowed(context, type, name, op)).Select(op => op.ToString().ToLowerInvariant())];
        }
        return decisions;
    }

    /// <summary>
    /// Whether a rule allows the principal to create topics of some name. Which names it may create, and whether a
    /// deny takes one back, is decided when it tries; this is for the console, to offer the action at all.
    /// </summary>
    private static bool MayCreateSomeTopic(IReadOnlyList<AclRule> rules, Principal principal) =>
        principal.Kind != AuthenticationKind.Anonymous && rules.Any(r =>
            r.ResourceType == ResourceType.Topic && r.Effect == AclEffect.Allow && r.Operation is AclOperation.Create or AclOperation.All
            && (r.Principal == AclRule.Any || r.Principal == principal.Name));
}
