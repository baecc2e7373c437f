using Granary.Grains.Security;

namespace Granary.Silo.Admin.Models;

/// <summary>An API key as <c>GET /api/v1/keys</c> lists it: who it is for and when, never its secret or hash.</summary>
/// <param name="Id">The key's id (the part after <c>gk_</c>), to revoke it by.</param>
/// <param name="Principal">Who the key authenticates as.</param>
/// <param name="Description">What it is for.</param>
/// <param name="Created">When it was made.</param>
/// <param name="CreatedBy">Who made it.</param>
/// <param name="Revoked">When it was revoked; null while it works.</param>
internal sealed record ApiKeyView(string Id, string Principal, string? Description, DateTimeOffset Created, string CreatedBy, DateTimeOffset? Revoked)
{
    public static ApiKeyView From(ApiKeyRecord key) => new(key.Id, key.Principal, key.Description, key.Created, key.CreatedBy, key.Revoked);
}
