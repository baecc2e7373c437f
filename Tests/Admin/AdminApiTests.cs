using System.Net;
using System.Text.Json.Nodes;

namespace Granary.Tests.Admin;

/// <summary>The admin HTTP API of a real silo: topics, groups, dead letters, cluster, health, OpenAPI and its errors.</summary>
public sealed class AdminApiTests(AdminApiSilo silo) : IClassFixture<AdminApiSilo>
{
    // A short poll: disposing an idle consumer waits for its pending poll to end (up to PollWait, 5 s by default).
    private static readonly ConsumerOptions NoExpiry = new() { AckTimeout = ClientTestExtensions.NoExpiry, PollWait = TimeSpan.FromMilliseconds(200) };

    [Fact]
    public async Task ATopic_IsCreatedDescribedAlteredAndDeleted_AndAnAlteredRetentionAppliesToItsOpenPartitions()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        var (status, created, _) = await silo.SendAsync(HttpMethod.Post, "api/v1/topics", new { name = topic, partitions = 2, retentionTime = "1.00:00:00" });
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(2, created!["partitions"]!.AsArray().Count);
        Assert.Equal("1.00:00:00", (string?)created["settings"]!["retentionTime"]);

        await using (var producer = silo.Client.CreateProducer(topic))
            for (int i = 0; i < 40; i++) await producer.SendAsync(new OutgoingMessage(new byte[200]) { Key = "k" });
        var (_, listed, _) = await silo.SendAsync(HttpMethod.Get, "api/v1/topics");
        var view = listed!.AsArray().Single(t => (string?)t!["name"] == topic)!;
        Assert.Equal(40, (long)view["messages"]!);
        Assert.True((long)view["sizeBytes"]! > 40 * 200);
        var (_, cluster, _) = await silo.SendAsync(HttpMethod.Get, "api/v1/cluster");
        string siloAddress = (string)cluster!["silos"]![0]!["address"]!;
        Assert.All(view["partitions"]!.AsArray(), p => Assert.Equal(siloAddress, (string?)p!["leader"]));
        var loaded = view["partitions"]!.AsArray().Single(p => (long)p!["endOffset"]! == 40)!;
        int partition = (int)loaded["partition"]!;
        Assert.Equal(0, (long)loaded["startOffset"]!);

        // 40 records of 200 bytes fill several 4 KiB segments; a 4 KiB limit leaves the partition only its newest ones.
        var (altered, alteredBody, _) = await silo.SendAsync(HttpMethod.Patch, $"api/v1/topics/{topic}",
            """{"partitions": 3, "retentionTime": null, "retentionBytes": 4096}""", "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, altered);
        Assert.Equal(3, (int)alteredBody!["settings"]!["partitions"]!);
        Assert.Null(alteredBody["settings"]!["retentionTime"]);
        Assert.Equal(4096, (long)alteredBody["settings"]!["retentionBytes"]!);
        Assert.Equal(3, alteredBody["partitions"]!.AsArray().Count);
        await Eventually.UntilAsync(async () =>
        {
            var (_, described, _) = await silo.SendAsync(HttpMethod.Get, $"api/v1/topics/{topic}");
            return (long)described!["partitions"]![partition]!["startOffset"]! > 0;
        });
        var config = (await silo.Client.Admin.DescribeTopicAsync(topic)).Config;
        Assert.Equal((3, (long?)4096, (TimeSpan?)null), (config.Partitions, config.RetentionBytes, config.RetentionTime));

        var (deleted, _, _) = await silo.SendAsync(HttpMethod.Delete, $"api/v1/topics/{topic}");
        Assert.Equal(HttpStatusCode.NoContent, deleted);
        var (gone, problem, type) = await silo.SendAsync(HttpMethod.Get, $"api/v1/topics/{topic}");
        Assert.Equal(HttpStatusCode.NotFound, gone);
        Assert.Equal("application/problem+json", type);
        Assert.Equal("https://granary.dev/problems/topic-not-found", (string?)problem!["type"]);
    }

    [Theory]
    [InlineData("POST", "api/v1/topics", """{"name": "bad name"}""", 400, "invalid-name")]
    [InlineData("POST", "api/v1/topics", """{"name": "t-unknown-setting", "partitionz": 3}""", 400, "bad-request")]
    [InlineData("POST", "api/v1/topics", """{"name": """, 400, "bad-request")]
    [InlineData("POST", "api/v1/topics", """{"name": "t-zero", "partitions": 0}""", 400, "invalid-argument")]
    [InlineData("POST", "api/v1/topics", """{"name": "existing"}""", 409, "topic-already-exists")]
    [InlineData("PATCH", "api/v1/topics/existing", """{"replicationFactor": 2}""", 400, "invalid-argument")]
    [InlineData("PATCH", "api/v1/topics/existing", """{"partitions": 1}""", 400, "invalid-argument")]
    [InlineData("PATCH", "api/v1/topics/existing", """{"retentionTime": "soon"}""", 400, "invalid-argument")]
    [InlineData("PATCH", "api/v1/topics/existing", """{"colour": "red"}""", 400, "invalid-argument")]
    [InlineData("PATCH", "api/v1/topics/existing", """[1, 2]""", 400, "invalid-argument")]
    [InlineData("PATCH", "api/v1/topics/missing", """{"partitions": 9}""", 404, "topic-not-found")]
    [InlineData("DELETE", "api/v1/topics/missing", null, 404, "topic-not-found")]
    [InlineData("GET", "api/v1/topics/existing/groups/nobody", null, 404, "group-not-found")]
    [InlineData("POST", "api/v1/topics/existing/groups/readers/seek", """{"to": "offset", "offset": -1}""", 400, "invalid-argument")]
    [InlineData("POST", "api/v1/topics/existing/groups/readers/seek", """{"to": "yesterday"}""", 400, "invalid-argument")]
    [InlineData("POST", "api/v1/topics/existing/groups/readers/seek", """{"to": "offset"}""", 400, "invalid-argument")]
    [InlineData("POST", "api/v1/topics/existing/groups/readers/seek", """{"to": null}""", 400, "invalid-argument")]
    [InlineData("GET", "api/v1/topics/existing/groups/readers/dead-letters?limit=0", null, 400, "invalid-argument")]
    [InlineData("GET", "api/v1/topics/existing/groups/readers/dead-letters?from=-5", null, 400, "invalid-argument")]
    [InlineData("GET", "api/v1/topics/existing/groups/readers/dead-letters?limit=many", null, 400, "bad-request")]
    public async Task ABadRequest_GetsProblemDetailsNamingTheError_AndNeverAStackTrace(string method, string path, string? body, int status, string problem)
    {
        await EnsureTopicWithGroupAsync("existing", "readers");
        var (actual, details, type) = await silo.SendAsync(new HttpMethod(method), path, body);
        Assert.Equal(status, (int)actual);
        Assert.Equal("application/problem+json", type);
        Assert.Equal($"https://granary.dev/problems/{problem}", (string?)details!["type"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)details["detail"]));
        Assert.DoesNotContain(" at Granary.", details.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", (string?)details["detail"] ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task AGroup_IsListedWithItsMembersAndLag_AndSeekMovesIt()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await silo.Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });
        await using var producer = silo.Client.CreateProducer(topic);
        for (int i = 0; i < 10; i++) await producer.SendAsync(new OutgoingMessage(new byte[] { (byte)i }) { Key = $"k{i}" });
        await using var consumer = silo.Client.CreateConsumer(topic, "billing", NoExpiry);
        await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 10, onEach: m => m.AckAsync());
        await Eventually.UntilAsync(async () => (await silo.Client.Admin.GetLagAsync(topic, "billing")).TotalLag == 0);

        var (_, all, _) = await silo.SendAsync(HttpMethod.Get, "api/v1/groups");
        var group = all!.AsArray().Single(g => (string?)g!["topic"] == topic)!;
        Assert.Equal("billing", (string?)group["group"]);
        Assert.Equal("Shared", (string?)group["mode"]);
        Assert.Single(group["members"]!.AsArray());
        Assert.Equal($"{topic}.billing.dlq", (string?)group["deadLetterTopic"]);
        Assert.Equal(0, (long)group["lag"]!["total"]!);

        var (status, afterSeek, _) = await silo.SendAsync(HttpMethod.Post, $"api/v1/topics/{topic}/groups/billing/seek", new { to = "earliest" });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(10, (long)afterSeek!["total"]!);
        var lagged = afterSeek["partitions"]!.AsArray().First(p => (long)p!["endOffset"]! > 0)!;
        int partition = (int)lagged["partition"]!;
        long end = (long)lagged["endOffset"]!;
        var (_, oneSeek, _) = await silo.SendAsync(HttpMethod.Post, $"api/v1/topics/{topic}/groups/billing/seek", new { to = "offset", offset = end, partition });
        Assert.Equal(end, (long)oneSeek!["partitions"]![partition]!["committedOffset"]!);
        Assert.Equal(10 - end, (long)oneSeek["total"]!);
        var (_, lag, _) = await silo.SendAsync(HttpMethod.Get, $"api/v1/topics/{topic}/groups/billing/lag");
        Assert.Equal(10 - end, (long)lag!["total"]!);
    }

    [Fact]
    public async Task DeadLetters_AreListedWithTheirReasons_AndARedriveFromTheApiDeliversThemAgain()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await silo.Client.Admin.CreateTopicAsync(topic);
        await using var producer = silo.Client.CreateProducer(topic);
        await producer.SendAsync(new OutgoingMessage("refused"u8.ToArray()) { Key = "order-1", Headers = new Dictionary<string, byte[]> { ["app"] = "x"u8.ToArray() } });
        await producer.SendAsync(new OutgoingMessage(new byte[] { 0xff, 0xfe, 0x00 }));
        await using (var consumer = silo.Client.CreateConsumer(topic, "g", NoExpiry))
        {
            await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 2, onEach: m => m.RejectAsync());
            await Eventually.UntilAsync(async () => (await silo.Client.Admin.GetLagAsync(topic, "g")).Partitions.Sum(p => p.DeadLettered) == 2);
        }

        var (_, listed, _) = await silo.SendAsync(HttpMethod.Get, $"api/v1/topics/{topic}/groups/g/dead-letters");
        var letters = listed!.AsArray();
        Assert.Equal(2, letters.Count);
        Assert.All(letters, l => Assert.Equal("rejected", (string?)l!["reason"]));
        var text = letters.Single(l => (string?)l!["payloadEncoding"] == "utf8")!;
        Assert.Equal("refused", (string?)text["payload"]);
        Assert.Equal("order-1", (string?)text["key"]);
        Assert.Equal("x", (string?)text["headers"]!["app"]);
        Assert.Equal(0, (long)text["sourceOffset"]!);
        var binary = letters.Single(l => (string?)l!["payloadEncoding"] == "base64")!;
        Assert.Equal(Convert.ToBase64String(new byte[] { 0xff, 0xfe, 0x00 }), (string?)binary["payload"]);
        var (_, paged, _) = await silo.SendAsync(HttpMethod.Get, $"api/v1/topics/{topic}/groups/g/dead-letters?from={(long)binary["offset"]!}&limit=1");
        Assert.Equal((long)binary["offset"]!, (long)paged!.AsArray().Single()!["offset"]!);

        long offset = (long)text["offset"]!;
        var (status, redriven, _) = await silo.SendAsync(HttpMethod.Post, $"api/v1/topics/{topic}/groups/g/dead-letters/redrive", new { fromOffset = offset, toOffset = offset + 1 });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, (int)redriven!["redriven"]!);
        await using var again = silo.Client.CreateConsumer(topic, "g", NoExpiry);
        var back = Assert.Single(await Eventually.CollectAsync(again.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync()));
        Assert.Equal("refused", Broker.MessagingTests.Text(back));
    }

    [Fact]
    public async Task TheClusterView_HealthProbes_AndOpenApiDocument_DescribeTheRunningSilo()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await silo.Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 3 });
        var (_, cluster, _) = await silo.SendAsync(HttpMethod.Get, "api/v1/cluster");
        var only = Assert.Single(cluster!["silos"]!.AsArray())!;
        Assert.Equal("Active", (string?)only["status"]);
        Assert.Equal(silo.Silo.GatewayPort, (int)only["gatewayPort"]!);
        Assert.True((int)only["activations"]! > 0);
        Assert.True((int)only["partitionsLed"]! >= 3);
        Assert.Equal((int)cluster["partitions"]!, (int)only["partitionsLed"]!);

        Assert.Equal(HttpStatusCode.OK, (await silo.SendAsync(HttpMethod.Get, "health/live")).Status);
        var (ready, readiness, _) = await silo.SendAsync(HttpMethod.Get, "health/ready");
        Assert.Equal((HttpStatusCode.OK, "ready"), (ready, (string?)readiness!["status"]));

        var (_, openApi, _) = await silo.SendAsync(HttpMethod.Get, "openapi/v1.json");
        var paths = openApi!["paths"]!.AsObject();
        foreach (string path in new[] { "/api/v1/topics", "/api/v1/topics/{name}", "/api/v1/groups", "/api/v1/topics/{topic}/groups/{group}/seek",
                     "/api/v1/topics/{topic}/groups/{group}/dead-letters/redrive", "/api/v1/cluster", "/health/ready" })
            Assert.True(paths.ContainsKey(path), $"the OpenAPI document lacks {path}");
        Assert.NotNull(paths["/api/v1/topics/{name}"]!["patch"]);
    }

    private async Task EnsureTopicWithGroupAsync(string topic, string group)
    {
        if (!await silo.Client.TopicExistsAsync(topic)) await silo.Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });
        await using var consumer = silo.Client.CreateConsumer(topic, group, NoExpiry);
        await consumer.StartAsync();
    }
}
