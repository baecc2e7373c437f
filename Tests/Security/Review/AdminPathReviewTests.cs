using System.Net;
using Granary.Tests.Admin;

namespace Granary.Tests.Security.Review;

/// <summary>
/// Review of issue 17: the admin API decides by path prefix which requests need a credential. Path spellings that still
/// route to an endpoint must need one too.
/// </summary>
public sealed class AdminPathReviewTests(AdminPathReviewTests.SecureSilo silo) : IClassFixture<AdminPathReviewTests.SecureSilo>
{
    public sealed class SecureSilo() : AdminSilo("--Granary:Security:Enabled=true", "--Granary:Security:BootstrapKey=review-bootstrap-key-0123456789abcdef0123456789");

    [Theory]
    [InlineData("GET", "//api/v1/topics")]
    [InlineData("GET", "/api/v1//topics")]
    [InlineData("GET", "/API/V1/TOPICS")]
    [InlineData("GET", "/api/v1/topics/")]
    [InlineData("GET", "/api%2Fv1/topics")]
    [InlineData("GET", "/%61pi/v1/topics")]
    [InlineData("GET", "/api/v1/keys")]
    [InlineData("GET", "/api/v1/whoami")]
    [InlineData("HEAD", "/api/v1/topics")]
    [InlineData("OPTIONS", "/api/v1/topics")]
    [InlineData("GET", "/openapi/v1.json")]
    [InlineData("GET", "/metrics")]
    [InlineData("GET", "/health/ready")]
    public async Task NoPathSpelling_ReachesAnEndpointWithoutACredential(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(silo.Http.BaseAddress!.ToString().TrimEnd('/') + path));
        using var response = await silo.Http.SendAsync(request, TestContext.Current.CancellationToken);
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        bool open = path.StartsWith("/health", StringComparison.Ordinal);
        if (open) Assert.DoesNotContain("topic", body, StringComparison.OrdinalIgnoreCase);
        else Assert.True(!response.IsSuccessStatusCode, $"{method} {path} answered {(int)response.StatusCode} without a credential: {body[..Math.Min(body.Length, 300)]}");
    }
}
