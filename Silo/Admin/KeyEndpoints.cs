using Granary.Grains.Security;
using Granary.Silo.Admin.Models;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Granary.Silo.Admin;

/// <summary><c>/api/v1/keys</c>: create, list and revoke API keys (Admin on the cluster).</summary>
internal static class KeyEndpoints
{
    public static void MapKeys(this RouteGroupBuilder api)
    {
        var keys = api.MapGroup("/keys").WithTags("Security");
        keys.MapPost("/", CreateAsync).WithSummary(
            "Makes an API key for a principal. The answer holds the key itself, shown this once: only its hash is stored.");
        keys.MapGet("/", List).WithSummary("Every API key, revoked ones included: id, principal, description, who made it and when. Never a secret or hash.");
        keys.MapDelete("/{id}", RevokeAsync).WithSummary("Revokes a key: within seconds it authenticates no one, on every silo.");
    }

    private static async Task<Created<CreatedKeyView>> CreateAsync(
        CreateKeyRequest request, HttpContext context, AdminAccess access, SecurityAdministration administration)
    {
        access.DemandOnCluster(context, AclOperation.Admin);
        var (key, text) = await administration.CreateKeyAsync(request.Principal, request.Description, AdminPrincipal.Of(context), context.RequestAborted);
        // The key must not linger in caches between here and the caller.
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Created($"/api/v1/keys/{key.Id}", new CreatedKeyView(key.Id, key.Principal, text, key.Created, key.Description));
    }

    private static async Task<ApiKeyView[]> List(HttpContext context, AdminAccess access, SecurityCatalog catalog)
    {
        access.DemandOnCluster(context, AclOperation.Admin);
        // Read afresh: a key made on another silo a moment ago belongs in the list.
        await catalog.RefreshAsync(context.RequestAborted);
        return [.. catalog.Snapshot.Keys.OrderBy(k => k.Created).Select(ApiKeyView.From)];
    }

    private static async Task<NoContent> RevokeAsync(string id, HttpContext context, AdminAccess access, SecurityAdministration administration)
    {
        access.DemandOnCluster(context, AclOperation.Admin);
        await administration.RevokeKeyAsync(id, AdminPrincipal.Of(context), context.RequestAborted);
        return TypedResults.NoContent();
    }
}
