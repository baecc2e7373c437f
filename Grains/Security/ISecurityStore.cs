namespace Granary.Grains.Security;

/// <summary>
/// Where API keys, rules and the audit log are kept, shared by every silo: a file in embedded mode, PostgreSQL in
/// cluster mode. Each change raises the version, which silos poll to pick changes up.
/// </summary>
public interface ISecurityStore
{
    /// <summary>Every key and rule, with the version they are at.</summary>
    Task<SecuritySnapshot> LoadAsync(CancellationToken cancellationToken = default);

    /// <summary>The current version, cheaply, to tell whether <see cref="LoadAsync"/> would bring anything new.</summary>
    Task<long> GetVersionAsync(CancellationToken cancellationToken = default);

    /// <summary>Stores a new key.</summary>
    Task AddKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken = default);

    /// <summary>Marks a key revoked at <paramref name="at"/>; false when there is no such key (or it was revoked already).</summary>
    Task<bool> RevokeKeyAsync(string id, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>Stores a new rule.</summary>
    Task AddRuleAsync(AclRule rule, CancellationToken cancellationToken = default);

    /// <summary>Removes a rule; false when there is no such rule.</summary>
    Task<bool> RemoveRuleAsync(Guid id, CancellationToken cancellationToken = default);

    /// <summary>Appends an event to the audit log.</summary>
    Task AppendAuditAsync(AuditEvent audit, CancellationToken cancellationToken = default);

    /// <summary>The newest audit events, newest first: at most <paramref name="limit"/>, none older than <paramref name="since"/>.</summary>
    Task<IReadOnlyList<AuditEvent>> ReadAuditAsync(DateTimeOffset? since, int limit, CancellationToken cancellationToken = default);
}
