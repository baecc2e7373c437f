using Granary.Grains.Security.Jwt;

namespace Granary.Tests.Security;

/// <summary>Bad <c>Granary:Security:Jwt</c> settings stop the silo with a message naming the setting.</summary>
public sealed class JwtOptionsValidatorTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly string _keysPath;

    public JwtOptionsValidatorTests()
    {
        _keysPath = Path.Combine(_directory.Path, "jwks.json");
        File.WriteAllText(_keysPath, "{\"keys\":[]}");
    }

    public void Dispose() => _directory.Dispose();

    private static string? Failure(JwtOptions options)
    {
        var result = new JwtOptionsValidator().Validate(null, options);
        return result.Succeeded ? null : result.FailureMessage;
    }

    private JwtOptions Valid() => new() { Issuer = "https://issuer.test", Audience = "granary", SigningKeysPath = _keysPath };

    [Fact]
    public void EmptySection_IsValid_AndTheDoorIsOff()
    {
        var options = new JwtOptions();
        Assert.Null(Failure(options));
        Assert.False(options.Enabled);
    }

    [Fact]
    public void CompleteSection_IsValid()
    {
        Assert.Null(Failure(Valid()));
        Assert.Null(Failure(new JwtOptions { Issuer = "https://issuer.test", Audience = "granary", MetadataAddress = "https://issuer.test/.well-known/openid-configuration" }));
        Assert.Null(Failure(new JwtOptions { Issuer = "https://issuer.test", Audience = "granary", MetadataAddress = "http://127.0.0.1:8080/.well-known/openid-configuration", RequireHttpsMetadata = false }));
    }

    [Fact]
    public void MissingAudience_IsNamed()
    {
        var options = Valid();
        options.Audience = null;
        Assert.Contains("Granary:Security:Jwt:Audience is required", Failure(options), StringComparison.Ordinal);
    }

    [Fact]
    public void SettingsWithoutIssuer_AreNamed()
    {
        Assert.Contains("Granary:Security:Jwt:Issuer is required", Failure(new JwtOptions { Audience = "granary", SigningKeysPath = _keysPath }), StringComparison.Ordinal);
    }

    [Fact]
    public void BothMetadataAndKeysFile_AreRefused()
    {
        var options = Valid();
        options.MetadataAddress = "https://issuer.test/.well-known/openid-configuration";
        Assert.Contains("only one of MetadataAddress and SigningKeysPath", Failure(options), StringComparison.Ordinal);
    }

    [Fact]
    public void NeitherMetadataNorKeysFile_IsRefused()
    {
        var options = Valid();
        options.SigningKeysPath = null;
        Assert.Contains("set MetadataAddress", Failure(options), StringComparison.Ordinal);
    }

    [Fact]
    public void PlainHttpMetadata_NeedsRequireHttpsMetadataOff()
    {
        var options = new JwtOptions { Issuer = "https://issuer.test", Audience = "granary", MetadataAddress = "http://issuer.test/.well-known/openid-configuration" };
        Assert.Contains("MetadataAddress must use https", Failure(options), StringComparison.Ordinal);
    }

    [Fact]
    public void RelativeMetadataAddress_IsRefused()
    {
        var options = new JwtOptions { Issuer = "https://issuer.test", Audience = "granary", MetadataAddress = "/.well-known/openid-configuration" };
        Assert.Contains("not an absolute http(s) URL", Failure(options), StringComparison.Ordinal);
    }

    [Fact]
    public void MissingKeysFile_IsNamed()
    {
        var options = Valid();
        options.SigningKeysPath = Path.Combine(_directory.Path, "absent.json");
        Assert.Contains("SigningKeysPath", Failure(options), StringComparison.Ordinal);
        Assert.Contains("does not exist", Failure(options), StringComparison.Ordinal);
    }

    [Fact]
    public void OutOfRangeDurations_AndEmptyPrincipalClaim_AreNamed()
    {
        var options = Valid();
        options.ClockSkew = TimeSpan.FromMinutes(10);
        options.PrincipalClaim = " ";
        options.MetadataAutomaticRefreshInterval = TimeSpan.FromMinutes(1);
        options.MetadataRefreshInterval = TimeSpan.Zero;
        string failure = Failure(options)!;
        Assert.Contains("ClockSkew", failure, StringComparison.Ordinal);
        Assert.Contains("PrincipalClaim", failure, StringComparison.Ordinal);
        Assert.Contains("MetadataAutomaticRefreshInterval", failure, StringComparison.Ordinal);
        Assert.Contains("MetadataRefreshInterval must be at least 1 second", failure, StringComparison.Ordinal);
    }
}
