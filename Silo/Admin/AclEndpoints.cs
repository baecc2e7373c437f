using Granary;
using Granary.Grains.Security;
using Granary.Silo.Admin.Models;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Granary.Silo.Admin;

/// <summary><c>/api/v1/acls</c>: list, add and remove permission rules (Admin on the cluster).</summary>
internal static class AclEndpoints
{
    public static void MapAcls(this RouteGroupBuilder api)
    {
        var acls = api.MapGroup("/acls").WithTags("Security");
        acls.MapGet("/", ListAsync).WithSummary("Every permission rule.");
        acls.MapPost("/", AddAsync).WithSummary(
            "Adds a rule: principal (or *) x resource (cluster, topic, group as topic/group; exact name, * or prefix) x operation x allow/deny. " +
            "Deny wins; with no rule that allows, the answer is no.");
        acls.MapDelete("/{id}", RemoveAsync).WithSummary("Removes a rule.");
    }

    private static async Task<AclRule[]> ListAsync(HttpContext context, AdminAccess access, SecurityCatalog catalog)
    {
        access.DemandOnCluster(context, AclOperation.Admin);
        await catalog.RefreshAsync(context.RequestAborted);
        return [.. catalog.Snapshot.Rules.OrderBy(r => r.Created)];
    }

    private static async Task<Created<AclRule>> AddAsync(CreateAclRequest request, HttpContext context, AdminAccess access, SecurityAdministration administration)
    {
        access.DemandOnCluster(context, AclOperation.Admin);
        string name = request.Name ?? (request.ResourceType == ResourceType.Cluster ? AclRule.Any
            : throw new GranaryException(GranaryErrorCode.InvalidArgument, "A topic or group rule needs 'name' (a name, a prefix with patternType Prefix, or '*')."));
        var rule = await administration.AddRuleAsync(request.Principal, request.ResourceType, name, request.PatternType ?? AclPatternType.Exact,
            request.Operation, request.Effect ?? AclEffect.Allow, AdminPrincipal.Of(context), context.RequestAborted);
        return TypedResults.Created($"/api/v1/acls/{rule.Id}", rule);
    }

    private static async Task<NoContent> RemoveAsync(string id, HttpContext context, AdminAccess access, SecurityAdministration administration)
    {
        access.DemandOnCluster(context, AclOperation.Admin);
        if (!Guid.TryParse(id, out var ruleId)) throw new GranaryException(GranaryErrorCode.NotFound, $"There is no rule with id '{EchoedInput.Of(id)}'.");
        await administration.RemoveRuleAsync(ruleId, AdminPrincipal.Of(context), context.RequestAborted);
        return TypedResults.NoContent();
    }
}
