using Granary.Grains.Security;

namespace Granary.Tests.Security.Model;

public sealed class ApiKeysTests
{
    [Fact]
    public void GeneratedKeys_AreDistinct_CarryTheirId_AndMatchOnlyTheirOwnHash()
    {
        var (id1, text1) = ApiKeys.Generate();
        var (id2, text2) = ApiKeys.Generate();
        Assert.NotEqual(text1, text2);
        Assert.StartsWith("gk_", text1, StringComparison.Ordinal);
        Assert.Equal(id1, ApiKeys.TryGetId(text1));
        Assert.Equal(id2, ApiKeys.TryGetId(text2));
        var record = new ApiKeyRecord(id1, "ops", ApiKeys.Hash(text1), DateTimeOffset.UnixEpoch, "test", null, null);
        Assert.True(ApiKeys.Matches(record, text1));
        Assert.False(ApiKeys.Matches(record, text2));
        Assert.False(ApiKeys.Matches(record, text1[..^1] + (text1[^1] == 'A' ? 'B' : 'A')));
        // 32 random bytes: 43 base64url characters after the id.
        Assert.True(text1.Length >= "gk_".Length + 16 + 1 + 43);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("gk_")]
    [InlineData("gk_0123456789abcdef")]
    [InlineData("gk_0123456789abcdef_")]
    [InlineData("gk_0123456789ABCDEF_secret")]
    [InlineData("gk_0123456789abcdeX_secret")]
    [InlineData("xx_0123456789abcdef_secret")]
    public void MalformedKeyText_HasNoId(string? text) => Assert.Null(ApiKeys.TryGetId(text));
}
