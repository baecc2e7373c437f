using System.Text.Json.Nodes;
using Granary.Cli;
using Granary.Tests.Admin;

namespace Granary.Tests.Cli;

/// <summary><c>granary</c> against a real silo's admin API: what it prints for people and scripts, and its exit codes.</summary>
public sealed class CliTests(AdminApiSilo silo) : IClassFixture<AdminApiSilo>
{
    // A short poll: disposing an idle consumer waits for its pending poll to end (up to PollWait, 5 s by default).
    private static readonly ConsumerOptions NoExpiry = new() { AckTimeout = ClientTestExtensions.NoExpiry, PollWait = TimeSpan.FromMilliseconds(200) };

    [Fact]
    public async Task Topics_AreCreatedListedDescribedAlteredAndDeleted()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        var created = await RunAsync("topics", "create", topic, "--partitions", "2", "--retention", "7d", "--ttl", "1h30m");
        Assert.Equal((ExitCodes.Ok, $"Created topic {topic} with 2 partition(s)."), (created.Code, created.Output.Trim()));
        await using (var producer = silo.Client.CreateProducer(topic))
            for (int i = 0; i < 7; i++) await producer.SendAsync(new OutgoingMessage(new byte[10]));

        var list = await RunAsync("topics", "list");
        Assert.Equal(ExitCodes.Ok, list.Code);
        Assert.StartsWith("TOPIC", list.Output, StringComparison.Ordinal);
        Assert.Matches($@"(?m)^{topic}\s+2\s+7\s+\S+ \S+\s+1\s+7d / -", list.Output);

        var altered = await RunAsync("topics", "alter", topic, "--partitions", "3", "--retention", "none", "--retention-bytes", "4KiB", "--ttl", "none");
        Assert.Equal(ExitCodes.Ok, altered.Code);
        Assert.Contains("Retention:            - / 4 KiB", altered.Output, StringComparison.Ordinal);
        Assert.Contains("Default TTL:          -", altered.Output, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^2\s+0\s+0\s+0\s", altered.Output); // the new partition

        var json = await RunAsync("topics", "describe", topic, "--json");
        var described = JsonNode.Parse(json.Output)!;
        Assert.Equal((3, 4096L), ((int)described["settings"]!["partitions"]!, (long)described["settings"]!["retentionBytes"]!));
        Assert.Null(described["settings"]!["retentionTime"]);
        Assert.Equal(7, (long)described["messages"]!);

        Assert.Equal(ExitCodes.Ok, (await RunAsync("topics", "delete", topic)).Code);
        var gone = await RunAsync("topics", "describe", topic);
        Assert.Equal(ExitCodes.NotFound, gone.Code);
        Assert.Contains($"Topic '{topic}' does not exist", gone.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ExitCodes.Conflict, "topics", "create", "cli-existing")]
    [InlineData(ExitCodes.InvalidArgument, "topics", "create", "bad name")]
    [InlineData(ExitCodes.InvalidArgument, "topics", "create", "cli-zero", "--partitions", "0")]
    [InlineData(ExitCodes.InvalidArgument, "topics", "alter", "cli-existing", "--partitions", "1")]
    [InlineData(ExitCodes.NotFound, "topics", "alter", "cli-missing", "--partitions", "5")]
    [InlineData(ExitCodes.NotFound, "groups", "lag", "cli-existing", "nobody")]
    [InlineData(ExitCodes.NotFound, "dlq", "list", "cli-missing", "g")]
    [InlineData(ExitCodes.Usage, "topics", "alter", "cli-existing")]
    [InlineData(ExitCodes.Usage, "topics", "create", "cli-x", "--retention", "soon")]
    [InlineData(ExitCodes.Usage, "topics", "frobnicate")]
    [InlineData(ExitCodes.Usage, "topics")]
    [InlineData(ExitCodes.Usage, "groups", "seek", "cli-existing", "g")]
    [InlineData(ExitCodes.Usage, "topics", "list", "--url", "ftp://example")]
    [InlineData(ExitCodes.Unreachable, "topics", "list", "--url", "http://127.0.0.1:1")]
    public async Task Failures_ExitWithACodeThatSaysWhatFailed_AndAMessageOnStandardError(int expected, params string[] args)
    {
        if (!await silo.Client.TopicExistsAsync("cli-existing")) await silo.Client.Admin.CreateTopicAsync("cli-existing", new TopicOptions { Partitions = 2 });
        var result = await RunAsync(args);
        Assert.Equal(expected, result.Code);
        Assert.StartsWith("granary: ", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFailureWithJson_PrintsTheProblemDocument()
    {
        var result = await RunAsync("topics", "describe", "cli-never-created", "--json");
        Assert.Equal(ExitCodes.NotFound, result.Code);
        Assert.Equal("https://granary.dev/problems/topic-not-found", (string?)JsonNode.Parse(result.Output)!["type"]);
    }

    [Fact]
    public async Task Groups_AreListedWithLag_AndSeekMovesThem()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await silo.Client.Admin.CreateTopicAsync(topic);
        await using var producer = silo.Client.CreateProducer(topic);
        for (int i = 0; i < 5; i++) await producer.SendAsync(new OutgoingMessage(new byte[] { (byte)i }));
        await using var consumer = silo.Client.CreateConsumer(topic, "audit", NoExpiry);
        await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 5, onEach: m => m.AckAsync());
        await Eventually.UntilAsync(async () => (await silo.Client.Admin.GetLagAsync(topic, "audit")).TotalLag == 0);

        var list = await RunAsync("groups", "list", "--topic", topic);
        Assert.Matches($@"(?m)^{topic}\s+audit\s+Shared\s+1\s+0\s+0\s+-$", list.Output);

        var seek = await RunAsync("groups", "seek", topic, "audit", "--to", "offset", "--offset", "2");
        Assert.Equal(ExitCodes.Ok, seek.Code);
        Assert.Contains("its lag is now 3.", seek.Output, StringComparison.Ordinal);
        var lag = await RunAsync("groups", "lag", topic, "audit");
        Assert.Matches(@"(?m)^0\s+5\s+2\s+3\s", lag.Output);
        Assert.Contains("Total lag: 3", lag.Output, StringComparison.Ordinal);

        var describe = await RunAsync("groups", "describe", topic, "audit", "--json");
        var group = JsonNode.Parse(describe.Output)!;
        Assert.Equal(($"{topic}.audit.dlq", 3L), ((string)group["deadLetterTopic"]!, (long)group["lag"]!["total"]!));
        var latest = await RunAsync("groups", "seek", topic, "audit", "--to", "latest");
        Assert.Contains("its lag is now 0.", latest.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeadLetters_AreListedWithTheirReason_AndRedriven()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await silo.Client.Admin.CreateTopicAsync(topic);
        await using var producer = silo.Client.CreateProducer(topic);
        await producer.SendAsync(new OutgoingMessage("broken order"u8.ToArray()) { Key = "o-1" });
        await using (var consumer = silo.Client.CreateConsumer(topic, "g", NoExpiry))
        {
            await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.RejectAsync());
            await Eventually.UntilAsync(async () => (await silo.Client.Admin.GetLagAsync(topic, "g")).Partitions.Sum(p => p.DeadLettered) == 1);
        }

        var list = await RunAsync("dlq", "list", topic, "g");
        Assert.Equal(ExitCodes.Ok, list.Code);
        Assert.Matches(@"(?m)^0\s+0\s+rejected\s+1\s+\S+ \S+\s+0@0\s+o-1\s+broken order$", list.Output);
        var redrive = await RunAsync("dlq", "redrive", topic, "g");
        Assert.Equal($"Redrove 1 dead letter(s) to {topic} for group g.", redrive.Output.Trim());
        await using var again = silo.Client.CreateConsumer(topic, "g", NoExpiry);
        Assert.Single(await Eventually.CollectAsync(again.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync()));
    }

    [Fact]
    public async Task ClusterStatus_ListsTheSilo()
    {
        var status = await RunAsync("cluster", "status");
        Assert.Equal(ExitCodes.Ok, status.Code);
        Assert.Matches($@"(?m)^\S+\s+S127\.0\.0\.1:{silo.Silo.SiloPort}:\d+\s+Active\s+{silo.Silo.GatewayPort}\s", status.Output);
        Assert.Contains("1 silo(s)", status.Output, StringComparison.Ordinal);
    }

    private Task<CliResult> RunAsync(params string[] args) => Run(silo.Silo.AdminUrl, args);

    internal static async Task<CliResult> Run(Uri url, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = await GranaryCli.RunAsync(args.Contains("--url") ? args : ["--url", url.ToString(), .. args], output, error);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    internal sealed record CliResult(int Code, string Output, string Error);
}

/// <summary>Durations and sizes as operators type them.</summary>
public sealed class CliValuesTests
{
    [Theory]
    [InlineData("7d", "7.00:00:00")]
    [InlineData("1h30m", "01:30:00")]
    [InlineData("45s", "00:00:45")]
    [InlineData("250ms", "00:00:00.2500000")]
    [InlineData("1d12h", "1.12:00:00")]
    [InlineData("00:05:00", "00:05:00")]
    public void Durations(string text, string api) => Assert.Equal(api, Values.Duration(text, "--x"));

    [Theory]
    [InlineData("1048576", 1048576)]
    [InlineData("4KiB", 4096)]
    [InlineData("512MB", 512L << 20)]
    [InlineData("10GiB", 10L << 30)]
    public void Sizes(string text, long bytes) => Assert.Equal(bytes, Values.Size(text, "--x"));

    [Theory]
    [InlineData("soon")]
    [InlineData("0s")]
    [InlineData("-5m")]
    [InlineData("")]
    [InlineData("99999999999d")]
    [InlineData("10675199d10675199d")]
    public void BadDurations_AreUsageErrors(string text) =>
        Assert.Equal(ExitCodes.Usage, Assert.Throws<Granary.Cli.Api.CliException>(() => Values.Duration(text, "--x")).ExitCode);

    [Theory]
    [InlineData("lots")]
    [InlineData("8EiB")]
    [InlineData("99999999TiB")]
    public void BadSizes_AreUsageErrors(string text) =>
        Assert.Equal(ExitCodes.Usage, Assert.Throws<Granary.Cli.Api.CliException>(() => Values.Size(text, "--x")).ExitCode);
}

/// <summary>An admin URL that answers with JSON the CLI does not expect (another program, another version).</summary>
public sealed class CliUnexpectedAnswerTests
{
    [Fact]
    public async Task AnAnswerOfAnotherShape_ExitsWithAServerError_AndAMessage_NotAStackTrace()
    {
        int port = FreePorts.Next();
        using var listener = new System.Net.HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var serving = Task.Run(async () =>
        {
            var context = await listener.GetContextAsync();
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync("{\"topics\": \"not a list\"}"u8.ToArray());
            context.Response.Close();
        });

        var result = await CliTests.Run(new Uri($"http://127.0.0.1:{port}/"), "topics", "list");
        await serving;

        Assert.Equal(ExitCodes.ServerError, result.Code);
        Assert.StartsWith("granary: unexpected failure", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }
}
