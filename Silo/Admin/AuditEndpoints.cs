using Granary;
using Granary.Grains.Security;

namespace Granary.Silo.Admin;

/// <summary><c>/api/v1/audit</c>: the audit log of creates, alters, deletes, seeks, redrives and permission changes (Admin on the cluster).</summary>
internal static class AuditEndpoints
{
    /// <summary>Events answered when the caller names no limit.</summary>
    public const int DefaultLimit = 100;

    /// <summary>The most events one request answers.</summary>
    public const int MaxLimit = 1000;

    public static void MapAudit(this RouteGroupBuilder api) =>
        api.MapGet("/audit", ReadAsync).WithTags("Security").WithSummary(
            $"The newest audit events first: who did what to what, when, on which silo. 'since' (ISO 8601) leaves out older ones; 'limit' 1-{MaxLimit}, default {DefaultLimit}.");

    private static async Task<IReadOnlyList<AuditEvent>> ReadAsync(HttpContext context, AdminAccess access, AuditLog audit, DateTimeOffset? since = null, int limit = DefaultLimit)
    {
        access.DemandOnCluster(context, AclOperation.Admin);
        if (limit is < 1 or > MaxLimit) throw new GranaryException(GranaryErrorCode.InvalidArgument, $"'limit' is {limit}; it must be 1 to {MaxLimit}.");
        return await audit.ReadAsync(since, limit, context.RequestAborted);
    }
}
