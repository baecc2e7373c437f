using Granary.Grains.Security;

namespace Granary.Silo.Admin;

/// <summary>
/// The principal an admin request authenticated as, kept in its <see cref="HttpContext"/> by
/// <see cref="AdminAuthentication"/>: <see cref="Principal.Anonymous"/> while security is off.
/// </summary>
internal static class AdminPrincipal
{
    private static readonly object ItemKey = new();

    /// <summary>The request's principal; anonymous when none was set (a request the authentication did not see).</summary>
    public static Principal Of(HttpContext context) =>
        context.Items.TryGetValue(ItemKey, out var value) && value is Principal principal ? principal : Principal.Anonymous;

    /// <summary>Records <paramref name="principal"/> as the request's.</summary>
    public static void Set(HttpContext context, Principal principal) => context.Items[ItemKey] = principal;
}
