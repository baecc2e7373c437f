namespace Granary.Grains.Security;

/// <summary>
/// Changes keys and rules on behalf of an administrator: checks the values, writes the store, records an audit event,
/// and refreshes this silo's <see cref="SecurityCatalog"/> at once (other silos follow within their refresh interval).
/// Whether the caller may do this (Admin on the cluster) is checked by the door it came through.
/// </summary>
public sealed class SecurityAdministration(ISecurityStore store, SecurityCatalog catalog, AuditLog audit, TimeProvider time)
{
    /// <summary>Makes an API key for <paramref name="principal"/>; the returned text is the only copy of its secret.</summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidArgument"/>: the principal name is unusable.</exception>
    public async Task<(ApiKeyRecord Key, string Text)> CreateKeyAsync(string principal, string? description, Principal by, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(by);
        if (!PrincipalNames.IsValid(principal) || principal == Principal.BootstrapName)
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"'{principal}' is not a usable principal name ({PrincipalNames.Rule}; '{Principal.BootstrapName}' is reserved).");
        if (description is { Length: > 256 }) throw new GranaryException(GranaryErrorCode.InvalidArgument, "A key's description is at most 256 characters.");
        var (id, text) = ApiKeys.Generate();
        var key = new ApiKeyRecord(id, principal, ApiKeys.Hash(text), time.GetUtcNow(), by.Name, description, null);
        await store.AddKeyAsync(key, cancellationToken).ConfigureAwait(false);
        await audit.RecordAsync(by.Name, "key.create", id, $"principal={principal}").ConfigureAwait(false);
        await catalog.RefreshAsync(cancellationToken).ConfigureAwait(false);
        return (key, text);
    }

    /// <summary>Revokes a key: from now on (within seconds on every silo) it authenticates no one.</summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.NotFound"/>: no such key, or revoked already.</exception>
    public async Task RevokeKeyAsync(string id, Principal by, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(by);
        if (!await store.RevokeKeyAsync(id, time.GetUtcNow(), cancellationToken).ConfigureAwait(false))
            throw new GranaryException(GranaryErrorCode.NotFound, $"There is no unrevoked API key with id '{id}'.");
        await audit.RecordAsync(by.Name, "key.revoke", id).ConfigureAwait(false);
        await catalog.RefreshAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Adds a rule.</summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidArgument"/>: the rule's values are unusable.</exception>
    public async Task<AclRule> AddRuleAsync(string principal, ResourceType resourceType, string name, AclPatternType patternType,
        AclOperation operation, AclEffect effect, Principal by, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(by);
        if (AclRule.Problem(principal, resourceType, name, patternType, operation, effect) is { } problem)
            throw new GranaryException(GranaryErrorCode.InvalidArgument, problem);
        var rule = new AclRule(Guid.NewGuid(), principal, resourceType, name, patternType, operation, effect, time.GetUtcNow(), by.Name);
        await store.AddRuleAsync(rule, cancellationToken).ConfigureAwait(false);
        await audit.RecordAsync(by.Name, effect == AclEffect.Allow ? "acl.grant" : "acl.deny", rule.Id.ToString(), Describe(rule)).ConfigureAwait(false);
        await catalog.RefreshAsync(cancellationToken).ConfigureAwait(false);
        return rule;
    }

    /// <summary>Removes a rule.</summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.NotFound"/>: no such rule.</exception>
    public async Task RemoveRuleAsync(Guid id, Principal by, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(by);
        var rule = catalog.Snapshot.Rules.FirstOrDefault(r => r.Id == id);
        if (!await store.RemoveRuleAsync(id, cancellationToken).ConfigureAwait(false))
            throw new GranaryException(GranaryErrorCode.NotFound, $"There is no rule with id '{id}'.");
        await audit.RecordAsync(by.Name, "acl.remove", id.ToString(), rule is null ? null : Describe(rule)).ConfigureAwait(false);
        await catalog.RefreshAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A rule in one line, as the audit log and the CLI show it.</summary>
    public static string Describe(AclRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        string pattern = rule.PatternType == AclPatternType.Prefix ? "prefix " : "";
        return $"{rule.Effect.ToString().ToLowerInvariant()} {rule.Principal} {rule.Operation.ToString().ToLowerInvariant()} on {rule.ResourceType.ToString().ToLowerInvariant()} {pattern}{rule.Name}";
    }
}
