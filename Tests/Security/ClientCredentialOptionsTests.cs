namespace Granary.Tests.Security;

/// <summary>The SDK's credential options are checked before connecting.</summary>
public sealed class ClientCredentialOptionsTests
{
    private static GranaryClientOptions Options(Action<GranaryClientOptions> change)
    {
        var options = new GranaryClientOptions { Gateways = ["127.0.0.1:30000"] };
        change(options);
        return options;
    }

    [Theory]
    [InlineData("gk_0123456789abcdef_c2VjcmV0LXNlY3JldC1zZWNyZXQ")]
    [InlineData("a-bootstrap-key-of-at-least-thirty-two-characters")]
    public void AnApiKey_OrABootstrapKey_IsAccepted(string key) => Options(o => o.ApiKey = key).Validate();

    [Theory]
    [InlineData("short")]
    [InlineData("gk_not-hex-digits-here_secret")]
    [InlineData("gk_0123456789ABCDEF_secret-secret-secret-secret")]
    [InlineData("a bootstrap key with spaces, over thirty-two characters")]
    public void SomethingElse_IsRefused_AsNoApiKey(string key)
    {
        var refused = Assert.Throws<ArgumentException>(() => Options(o => o.ApiKey = key).Validate());
        Assert.Contains("ApiKey", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(key, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoCredentials_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => Options(o => { o.ApiKey = "gk_0123456789abcdef_secret"; o.AccessToken = "eyJ.a.b"; }).Validate());
        Assert.Throws<ArgumentException>(() => Options(o => { o.AccessToken = "eyJ.a.b"; o.AccessTokenProvider = _ => ValueTask.FromResult("t"); }).Validate());
        Assert.Throws<ArgumentException>(() => Options(o => o.UseCertificateIdentity = true).Validate());
    }
}
