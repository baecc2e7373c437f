using Granary;
using Granary.Grains.Security;

namespace Granary.Silo.Admin;

/// <summary>
/// The permission checks of admin endpoints that call no grain (keys, rules, audit, the cluster's listing and damage),
/// which the silo's grain-call gate therefore does not see: the request's principal against the
/// <see cref="SecurityCatalog"/>. With security off every request passes, as before there were principals.
/// </summary>
internal sealed class AdminAccess(SecurityCatalog catalog)
{
    /// <summary>Whether security is on.</summary>
    public bool Enabled => catalog.Enabled;

    /// <summary>Whether the request's principal may do <paramref name="operation"/> to the named resource (always, with security off).</summary>
    public bool IsAllowed(HttpContext context, ResourceType resourceType, string name, AclOperation operation) =>
        !catalog.Enabled || catalog.IsAllowed(AdminPrincipal.Of(context), resourceType, name, operation);

    /// <summary>Throws <see cref="GranaryErrorCode.NotAllowed"/> (403) unless the request's principal may do <paramref name="operation"/> to the cluster.</summary>
    public void DemandOnCluster(HttpContext context, AclOperation operation)
    {
        if (IsAllowed(context, ResourceType.Cluster, AclRule.Any, operation)) return;
        throw new GranaryException(GranaryErrorCode.NotAllowed,
            $"Principal '{AdminPrincipal.Of(context).Name}' may not do this: it needs {operation} on the cluster.");
    }
}
