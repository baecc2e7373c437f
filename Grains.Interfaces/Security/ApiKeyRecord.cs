namespace Granary.Grains.Security;

/// <summary>A stored API key: who it authenticates, and only a hash of its secret.</summary>
/// <param name="Id">The key's public id, the part of the key text after <c>gk_</c>.</param>
/// <param name="Principal">The principal the key authenticates as.</param>
/// <param name="SecretHash">SHA-256 of the whole key text (<see cref="ApiKeys.Hash"/>).</param>
/// <param name="Created">When the key was made.</param>
/// <param name="CreatedBy">Who made it.</param>
/// <param name="Description">What the key is for, as its creator put it.</param>
/// <param name="Revoked">When the key was revoked; a revoked key authenticates no one.</param>
public sealed record ApiKeyRecord(
    string Id, string Principal, byte[] SecretHash, DateTimeOffset Created, string CreatedBy, string? Description, DateTimeOffset? Revoked);
