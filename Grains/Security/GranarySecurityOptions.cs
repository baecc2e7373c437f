using Microsoft.Extensions.Options;

namespace Granary.Grains.Security;

/// <summary>
/// Authentication and permissions (<c>Granary:Security</c>). Off by default, which suits a development silo on
/// loopback; once on, every client call and admin request needs a credential and is checked against the rules.
/// </summary>
public sealed class GranarySecurityOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Granary:Security";

    /// <summary>Whether clients must authenticate and rules apply (default deny). Off: anyone may do anything.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// An API key (at least 32 characters) that authenticates as the superuser <see cref="Principal.BootstrapName"/>,
    /// to create the first keys and rules. Comes from configuration only and is never stored.
    /// </summary>
    public string? BootstrapKey { get; set; }

    /// <summary>Principals that pass every check, whatever the rules say.</summary>
    public string[] Superusers { get; set; } = [];

    /// <summary>How often each silo re-reads keys and rules from the store, so a change made elsewhere applies here.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a client-certificate session token stays valid before the client must sign in again.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>Validates <see cref="GranarySecurityOptions"/> at startup.</summary>
internal sealed class GranarySecurityOptionsValidator : IValidateOptions<GranarySecurityOptions>
{
    internal const int MinBootstrapKeyLength = 32;

    public ValidateOptionsResult Validate(string? name, GranarySecurityOptions options)
    {
        if (options.BootstrapKey is { } key && key.Length < MinBootstrapKeyLength)
            return ValidateOptionsResult.Fail($"Granary:Security:BootstrapKey must be at least {MinBootstrapKeyLength} characters (use a random value, e.g. `openssl rand -base64 32`).");
        if (options.BootstrapKey is { } prefixed && (prefixed.StartsWith(ApiKeys.Prefix, StringComparison.Ordinal) || prefixed.StartsWith(SessionTokens.Prefix, StringComparison.Ordinal)
            || prefixed.StartsWith("eyJ", StringComparison.Ordinal) || prefixed.Any(char.IsWhiteSpace)))
            return ValidateOptionsResult.Fail($"Granary:Security:BootstrapKey must not contain spaces nor start like another credential ('{ApiKeys.Prefix}', '{SessionTokens.Prefix}', 'eyJ'): it would be read as one.");
        if (options.BootstrapKey is { } weak && weak.Distinct().Count() < 10)
            return ValidateOptionsResult.Fail("Granary:Security:BootstrapKey is too guessable (fewer than 10 distinct characters): use a random value, e.g. `openssl rand -base64 32`.");
        if (options.RefreshInterval <= TimeSpan.Zero || options.RefreshInterval > TimeSpan.FromSeconds(5))
            return ValidateOptionsResult.Fail("Granary:Security:RefreshInterval must be positive and at most 5 seconds (a revoked key must stop working within seconds).");
        if (options.SessionLifetime < TimeSpan.FromMinutes(1))
            return ValidateOptionsResult.Fail("Granary:Security:SessionLifetime must be at least 1 minute.");
        foreach (var superuser in options.Superusers)
        {
            if (!PrincipalNames.IsValid(superuser))
                return ValidateOptionsResult.Fail($"Granary:Security:Superusers: '{superuser}' is not a valid principal name ({PrincipalNames.Rule}).");
        }
        return ValidateOptionsResult.Success;
    }
}
