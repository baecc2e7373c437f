namespace Granary.Silo.Admin.Models;

/// <summary>The answer of <c>POST /api/v1/keys</c>: the new key, whose text is shown this once and never again.</summary>
/// <param name="Id">The key's id, to list and revoke it by.</param>
/// <param name="Principal">Who the key authenticates as.</param>
/// <param name="Key">The key itself (<c>gk_…</c>): only its hash is stored, so keep it now.</param>
/// <param name="Created">When it was made.</param>
/// <param name="Description">What it is for.</param>
internal sealed record CreatedKeyView(string Id, string Principal, string Key, DateTimeOffset Created, string? Description);
