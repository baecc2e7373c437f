using Microsoft.Extensions.Options;

namespace Granary.Grains.Security.Jwt;

/// <summary>Validates <see cref="JwtOptions"/> at startup, naming the setting at fault.</summary>
public sealed class JwtOptionsValidator : IValidateOptions<JwtOptions>
{
    private const string Section = JwtOptions.SectionName;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, JwtOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Enabled)
        {
            // An unset section is simply "no JWT door"; a half-filled one is a mistake worth stopping for.
            return string.IsNullOrWhiteSpace(options.Audience) && string.IsNullOrWhiteSpace(options.MetadataAddress) && string.IsNullOrWhiteSpace(options.SigningKeysPath)
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail($"{Section}:Issuer is required when {Section} is configured (it names the OpenID Connect issuer whose tokens are accepted).");
        }

        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Audience))
            failures.Add($"{Section}:Audience is required: the audience ('aud') tokens for Granary carry.");

        bool hasMetadata = !string.IsNullOrWhiteSpace(options.MetadataAddress);
        bool hasKeysFile = !string.IsNullOrWhiteSpace(options.SigningKeysPath);
        if (hasMetadata == hasKeysFile)
        {
            failures.Add(hasMetadata
                ? $"{Section}: set only one of MetadataAddress and SigningKeysPath."
                : $"{Section}: set MetadataAddress (the issuer's OpenID Connect discovery URL) or SigningKeysPath (a JWKS file).");
        }
        else if (hasMetadata)
        {
            if (!Uri.TryCreate(options.MetadataAddress, UriKind.Absolute, out var address) || (address.Scheme != Uri.UriSchemeHttps && address.Scheme != Uri.UriSchemeHttp))
                failures.Add($"{Section}:MetadataAddress '{options.MetadataAddress}' is not an absolute http(s) URL.");
            else if (address.Scheme != Uri.UriSchemeHttps && options.RequireHttpsMetadata)
                failures.Add($"{Section}:MetadataAddress must use https (or set {Section}:RequireHttpsMetadata to false for a trusted local issuer).");
        }
        else if (!File.Exists(options.SigningKeysPath))
        {
            failures.Add($"{Section}:SigningKeysPath '{options.SigningKeysPath}' does not exist.");
        }

        if (string.IsNullOrWhiteSpace(options.PrincipalClaim))
            failures.Add($"{Section}:PrincipalClaim must name a claim (default 'sub').");
        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > TimeSpan.FromMinutes(5))
            failures.Add($"{Section}:ClockSkew must be between 0 and 5 minutes.");
        if (options.MetadataAutomaticRefreshInterval < TimeSpan.FromMinutes(5))
            failures.Add($"{Section}:MetadataAutomaticRefreshInterval must be at least 5 minutes.");
        if (options.MetadataRefreshInterval < TimeSpan.FromSeconds(1))
            failures.Add($"{Section}:MetadataRefreshInterval must be at least 1 second.");

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
