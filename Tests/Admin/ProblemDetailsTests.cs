using System.Net;
using System.Text.Json.Nodes;
using Granary.Cli;
using Granary.Tests.Cli;

namespace Granary.Tests.Admin;

/// <summary>
/// Every error answer of the admin API is problem details without server internals (no stack frames, no exception
/// type names) and with bounded echoes of the input; request bodies are bounded too.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ProblemDetailsTests(AdminApiSilo silo) : IClassFixture<AdminApiSilo>
{
    public static TheoryData<string, string, string, string, HttpStatusCode> BadRequests => new()
    {
        { "POST", "api/v1/topics", "{not json", "application/json", HttpStatusCode.BadRequest },
        { "POST", "api/v1/topics", """{"name": 5, "partitions": "many"}""", "application/json", HttpStatusCode.BadRequest },
        { "POST", "api/v1/topics", """{"name": "t", "partitions": 1.5}""", "application/json", HttpStatusCode.BadRequest },
        { "POST", "api/v1/topics", """{"name": "t", "unknown": true}""", "application/json", HttpStatusCode.BadRequest },
        { "POST", "api/v1/topics", """{"name": "t"}""", "text/plain", HttpStatusCode.UnsupportedMediaType },
        { "POST", "api/v1/topics", "[1, 2", "application/json", HttpStatusCode.BadRequest },
        { "PATCH", "api/v1/topics/some-topic", "{\"partitions\":", "application/merge-patch+json", HttpStatusCode.BadRequest },
        { "POST", "api/v1/topics/some-topic/groups/g/seek", """{"to": 7}""", "application/json", HttpStatusCode.BadRequest },
        { "GET", "api/v1/topics/some-topic/groups/g/dead-letters?from=abc", "", "application/json", HttpStatusCode.BadRequest },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task MalformedRequest_IsAProblemWithoutServerInternals(string method, string path, string body, string contentType, HttpStatusCode expected)
    {
        var (status, text, mediaType) = await SendAsync(new HttpMethod(method), path, body, contentType);

        Assert.True(status == expected, $"{status}: {text}");
        Assert.Equal("application/problem+json", mediaType);
        AssertNoInternals(text);
    }

    [Fact]
    public async Task AHugeTopicName_IsEchoedShortened()
    {
        string name = new string('x', 300_000) + " ";
        var (status, text, _) = await SendAsync(HttpMethod.Post, "api/v1/topics", $$"""{"name": "{{name}}"}""", "application/json");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var detail = (string)JsonNode.Parse(text)!["detail"]!;
        Assert.Contains($"…({name.Length} chars)", detail, StringComparison.Ordinal);
        Assert.True(text.Length < 2000, $"an answer of {text.Length} characters");
        AssertNoInternals(text);
    }

    [Fact]
    public async Task ABodyOverTheLimit_Is413ProblemDetails()
    {
        // 2 MiB against the default limit of 1 MiB; the name alone would be refused after reading.
        string body = $$"""{"name": "{{new string('x', 2 * 1024 * 1024)}}"}""";
        // Expect: 100-continue, as a client sending a large body should: the silo answers 413 from the length alone and
        // closes the connection, which otherwise races with the client still writing the body (a broken pipe, once).
        var (status, text, mediaType) = await SendAsync(HttpMethod.Post, "api/v1/topics", body, "application/json", expectContinue: true);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("application/problem+json", mediaType);
        Assert.True(text.Length < 2000, $"an answer of {text.Length} characters");
        AssertNoInternals(text);
    }

    [Fact]
    public async Task AProblem_IsJsonEvenWhenTheCallerAsksForHtml()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/v1/topics/{BrokerClusterFixture.UniqueTopic()}");
        request.Headers.Accept.ParseAdd("text/html");
        using var response = await silo.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("TopicNotFound", (string?)JsonNode.Parse(text)!["code"]);
        AssertNoInternals(text);
    }

    [Fact]
    public async Task LagOfAnUnknownGroup_IsNotFound_InTheApiAndTheCli()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await silo.Client.Admin.CreateTopicAsync(topic);

        var (status, text, _) = await SendAsync(HttpMethod.Get, $"api/v1/topics/{topic}/groups/nobody/lag", "", "application/json");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.EndsWith("/group-not-found", (string)JsonNode.Parse(text)!["type"]!, StringComparison.Ordinal);
        var (seekStatus, seekText, _) = await SendAsync(HttpMethod.Post, $"api/v1/topics/{topic}/groups/nobody/seek", """{"to": "earliest"}""", "application/json");
        Assert.Equal(HttpStatusCode.NotFound, seekStatus);
        AssertNoInternals(seekText);

        var cli = await CliTests.Run(silo.Silo.AdminUrl, "groups", "lag", topic, "nobody");
        Assert.True(cli.Code == ExitCodes.NotFound, $"{cli.Code}: {cli.Output} {cli.Error}");
    }

    /// <summary>No stack frame, no exception type, no inner exception marker.</summary>
    internal static void AssertNoInternals(string text)
    {
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        Assert.DoesNotContain("--->", text, StringComparison.Ordinal);
    }

    private async Task<(HttpStatusCode Status, string Text, string? MediaType)> SendAsync(HttpMethod method, string path, string body, string contentType,
        bool expectContinue = false)
    {
        using var request = new HttpRequestMessage(method, path);
        if (expectContinue) request.Headers.ExpectContinue = true;
        if (body.Length > 0) request.Content = new StringContent(body, Encoding.UTF8, contentType);
        using var response = await silo.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.MediaType);
    }
}
