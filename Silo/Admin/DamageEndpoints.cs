using Granary.Grains.Hosting.StateFiles;
using Granary.Grains.Security;
using Granary.Silo.Admin.Models;

namespace Granary.Silo.Admin;

/// <summary><c>/api/v1/damage</c>: the damaged state files this silo found, and what it did about each.</summary>
internal static class DamageEndpoints
{
    public static void MapDamage(this RouteGroupBuilder api) =>
        api.MapGet("/damage", (StateDamageLog damage, HttpContext context, AdminAccess access) =>
            {
                access.DemandOnCluster(context, AclOperation.Describe);
                return TypedResults.Ok(new DamageView(damage.Reported, damage.Events));
            })
            .WithTags("Cluster")
            .WithSummary("Damaged state files (grain state, reminders) this silo found since it started, the latest 200: what was wrong and what it did (restored the previous copy, reset, rebuilt, or unrecoverable).");
}
