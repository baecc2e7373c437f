using System.Net;

namespace Granary.Tests.Admin;

/// <summary>
/// A silo whose topic registry cannot be read answers its health probe and the topic listing without server
/// internals (the registry's storage error used to come back with its stack trace).
/// </summary>
[Trait("Category", "Integration")]
public sealed class HealthProblemTests
{
    [Fact]
    public async Task GarbageTopicRegistry_HealthAndTopicListing_CarryNoStackTrace()
    {
        using var data = new TempDirectory();
        await using (var first = new SiloProcess(data.Path))
        {
            first.Start();
            await using var client = await first.ConnectAsync();
            await client.Admin.CreateTopicAsync(BrokerClusterFixture.UniqueTopic());
            await first.StopAsync(TimeSpan.FromSeconds(60));
        }
        var registry = Directory.EnumerateFiles(Path.Combine(data.Path, "state"), "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(Path.GetDirectoryName(f))!.Contains("granarytopics", StringComparison.OrdinalIgnoreCase))
            .ToList();
        Assert.NotEmpty(registry);
        foreach (string file in registry) File.WriteAllBytes(file, Encoding.UTF8.GetBytes("garbage, not a state file\n"));

        await using var second = new SiloProcess(data.Path);
        second.Start();
        using var http = new HttpClient { BaseAddress = second.AdminUrl, Timeout = TimeSpan.FromSeconds(60) };
        string? health = null;
        await Eventually.UntilAsync(async () =>
        {
            try
            {
                using var response = await http.GetAsync("health/ready");
                health = await response.Content.ReadAsStringAsync();
                // Until the registry's activation fails, the probe may time out, which says nothing of its error.
                return !health.Contains("did not answer within", StringComparison.Ordinal);
            }
            catch (HttpRequestException)
            {
                return false; // not listening yet
            }
        }, TimeSpan.FromSeconds(120));
        ProblemDetailsTests.AssertNoInternals(health!);

        using var topics = await http.GetAsync("api/v1/topics");
        string listing = await topics.Content.ReadAsStringAsync();
        Assert.True(topics.StatusCode is HttpStatusCode.OK or >= HttpStatusCode.InternalServerError, $"{topics.StatusCode}: {listing}");
        ProblemDetailsTests.AssertNoInternals(listing);
    }
}
