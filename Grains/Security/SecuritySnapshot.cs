namespace Granary.Grains.Security;

/// <summary>Every API key and rule at one moment, as read from the store.</summary>
/// <param name="Keys">API keys, revoked ones included.</param>
/// <param name="Rules">Permission rules.</param>
/// <param name="Version">Grows with every change; equal versions hold equal content.</param>
public sealed record SecuritySnapshot(IReadOnlyList<ApiKeyRecord> Keys, IReadOnlyList<AclRule> Rules, long Version)
{
    /// <summary>No keys and no rules.</summary>
    public static SecuritySnapshot Empty { get; } = new([], [], 0);
}
