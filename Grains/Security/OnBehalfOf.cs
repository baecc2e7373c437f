namespace Granary.Grains.Security;

/// <summary>
/// How a silo-side door (the admin API) tells the gate whom it is calling for: the principal goes in the request
/// context under <see cref="SecurityContextKeys.OnBehalfOf"/> as <c>{kind}:{name}</c>, and the gate trusts it only on
/// calls stamped by a silo.
/// </summary>
public static class OnBehalfOf
{
    /// <summary>The value that names <paramref name="principal"/>.</summary>
    public static string Encode(Principal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return $"{principal.Kind}:{principal.Name}";
    }

    /// <summary>The principal a value names, or null for anything else.</summary>
    public static Principal? TryDecode(object? value)
    {
        if (value is not string text) return null;
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !Enum.TryParse<AuthenticationKind>(text.AsSpan(0, colon), out var kind) || !Enum.IsDefined(kind)) return null;
        string name = text[(colon + 1)..];
        return PrincipalNames.IsValid(name) ? new Principal(name, kind) : null;
    }

    /// <summary>Runs the rest of the current flow's grain calls for <paramref name="principal"/>.</summary>
    public static void Set(Principal principal) => RequestContext.Set(SecurityContextKeys.OnBehalfOf, Encode(principal));
}
