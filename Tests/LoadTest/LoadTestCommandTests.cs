using System.Text.Json;
using Granary.LoadTest.Cli;
using Granary.LoadTest.Reporting;
using Granary.LoadTest.Scenarios;

namespace Granary.Tests.LoadTest;

public sealed class LoadTestCommandTests
{
    private static System.CommandLine.ParseResult Parse(string line) => LoadTestCommands.Build(TextWriter.Null).Parse(line);

    [Fact]
    public void Produce_MapsEveryOption_AndDefaultsTheRest()
    {
        var parse = Parse("produce --topic T --messages 1000 --size 512 --partitions 8 --producers 2 --rate 5000 --batch-bytes 65536 --linger-ms 3 --gateway a:1 --gateway b:2");
        Assert.Empty(parse.Errors);

        var settings = LoadTestCommands.ToProduce(parse);
        Assert.Equal(new ProduceSettings("T", 1000, 512, 8, 2, 5000, 65536, 3, 10_000, Idempotence: true), settings);
        Assert.Equal(["a:1", "b:2"], LoadTestCommands.ToTarget(parse).Gateways);
        Assert.False(LoadTestCommands.ToTarget(parse).Embedded);

        var defaults = LoadTestCommands.ToProduce(Parse("produce --topic T --messages 5 --window 1 --no-idempotence"));
        Assert.Equal(new ProduceSettings("T", 5, 100, 4, 1, null, 256 * 1024, 0, 1, Idempotence: false), defaults);
        Assert.Equal(["T"], defaults.TopicNames);
        Assert.Equal(UnkeyedPartitioning.Sticky, defaults.Partitioning);
        Assert.Equal(UnkeyedPartitioning.RoundRobin, LoadTestCommands.ToProduce(Parse("produce --topic T --messages 5 --partitioning RoundRobin")).Partitioning);
        var many = LoadTestCommands.ToProduce(Parse("produce --topic T --messages 5 --topics 3"));
        Assert.Equal(["T-0", "T-1", "T-2"], many.TopicNames);
    }

    [Fact]
    public void ApiKey_GoesToTheTarget_AndWithEmbedded_MustBeABootstrapKey()
    {
        Assert.Equal("gk_0123456789abcdef_s", LoadTestCommands.ToTarget(Parse("produce --topic T --messages 5 --api-key gk_0123456789abcdef_s")).ApiKey);
        Assert.Equal("gk_0123456789abcdef_s", LoadTestCommands.ToTarget(Parse("consume --topic T --group g --messages 5 --api-key gk_0123456789abcdef_s")).ApiKey);
        Assert.Equal("gk_0123456789abcdef_s", LoadTestCommands.ToTarget(Parse("e2e --topic T --rate 5 --duration 1 --api-key gk_0123456789abcdef_s")).ApiKey);
        Assert.Null(LoadTestCommands.ToTarget(Parse("produce --topic T --messages 5")).ApiKey);
        string bootstrap = new('b', 32);
        Assert.Equal(bootstrap, LoadTestCommands.ToTarget(Parse($"produce --topic T --messages 5 --embedded --api-key {bootstrap}")).ApiKey);
        Assert.Throws<ArgumentException>(() => LoadTestCommands.ToTarget(Parse("produce --topic T --messages 5 --embedded --api-key gk_0123456789abcdef_s")));
    }

    [Theory]
    [InlineData("produce --topic T --messages 0")]
    [InlineData("produce --topic T --messages 10 --producers 0")]
    [InlineData("produce --topic T --messages 10 --rate -5")]
    public void Produce_OutOfRange_IsRefused(string line) =>
        Assert.Throws<ArgumentException>(() => LoadTestCommands.ToProduce(Parse(line)));

    [Fact]
    public void MissingRequiredOptions_AreParseErrors()
    {
        Assert.NotEmpty(Parse("produce --messages 10").Errors);
        Assert.NotEmpty(Parse("consume --topic T --messages 10").Errors); // no --group
        Assert.NotEmpty(Parse("e2e --topic T --rate 10").Errors); // no --duration
    }

    [Fact]
    public void ConsumeE2eAndVerify_MapTheirOptions()
    {
        Assert.Equal(new ConsumeSettings("T", "G", 100, 3, DeliveryMode.KeyShared, 2048),
            LoadTestCommands.ToConsume(Parse("consume --topic T --group G --messages 100 --consumers 3 --mode KeyShared")));
        Assert.Equal(AckStyle.Awaited, LoadTestCommands.ToConsume(Parse("consume --topic T --group G --messages 100 --ack Awaited")).Ack);
        Assert.Equal(AckStyle.Confirmed, LoadTestCommands.ToConsume(Parse("consume --topic T --group G --messages 100 --ack Confirmed")).Ack);
        Assert.Equal(new EndToEndSettings("T", 10_000, TimeSpan.FromSeconds(30), 100, 4),
            LoadTestCommands.ToEndToEnd(Parse("e2e --topic T --rate 10000 --duration 30 --size 100")));
        Assert.Throws<ArgumentException>(() => LoadTestCommands.ToEndToEnd(Parse("e2e --topic T --rate 10 --duration 1 --size 4")));
        var verify = LoadTestCommands.ToVerify(Parse("verify --messages 500 --kill-silo-every 2.5"));
        Assert.Equal(500, verify.Messages);
        Assert.Equal(TimeSpan.FromSeconds(2.5), verify.KillEvery);
        Assert.Null(LoadTestCommands.ToVerify(Parse("verify --messages 500")).KillEvery);
    }

    [Fact]
    public void VerifyChecker_CountsLostDuplicatedAndUnexpected()
    {
        var checker = new VerifyChecker(5);
        foreach (long id in new long[] { 0, 1, 2, 3 }) checker.Confirmed(id);
        foreach (long id in new long[] { 0, 0, 1, 4, 4, 4, 7, -1 }) checker.Received(id);

        Assert.Equal(new VerifyCounts(Sent: 5, Confirmed: 4, Received: 3, Lost: 2, Duplicated: 3, Unexpected: 2), checker.Counts());
        Assert.False(checker.Counts().Passed);
        Assert.False(checker.AllConfirmedReceived);
        checker.Received(2);
        checker.Received(3);
        Assert.True(checker.AllConfirmedReceived);
        Assert.Equal(0, checker.Counts().Lost);
    }

    [Fact]
    public void Report_WritesTheJsonNamesTheToolPromises()
    {
        var latency = new LatencyRecorder();
        foreach (long micros in new long[] { 100, 200, 300, 400, 10_000 }) latency.RecordMicros(micros);
        var report = RunReport.From("produce", 1000, 100_000, TimeSpan.FromSeconds(2), latency, 1, new Dictionary<string, string> { ["topic"] = "T" });

        using var json = JsonDocument.Parse(report.ToJson());
        var root = json.RootElement;
        Assert.Equal(500, root.GetProperty("messagesPerSecond").GetDouble());
        Assert.Equal(0.05, root.GetProperty("megabytesPerSecond").GetDouble(), 6);
        Assert.Equal(0.3, root.GetProperty("latencyMs").GetProperty("p50").GetDouble(), 2);
        Assert.Equal(10, root.GetProperty("latencyMs").GetProperty("max").GetDouble(), 1);
        Assert.True(root.GetProperty("latencyMs").TryGetProperty("p999", out _));
        Assert.Equal(2.2, root.GetProperty("latencyMs").GetProperty("mean").GetDouble(), 0.01); // (0.1 + 0.2 + 0.3 + 0.4 + 10) / 5
        Assert.Equal(1, root.GetProperty("errors").GetInt64());
        Assert.Equal("T", root.GetProperty("settings").GetProperty("topic").GetString());
    }

    [Fact]
    public void Pacer_SchedulesMessagesEvenlyFromTheStart()
    {
        var pacer = Pacer.Start(1000);
        Assert.Equal(System.Diagnostics.Stopwatch.Frequency, pacer.DueAt(1000) - pacer.DueAt(0), System.Diagnostics.Stopwatch.Frequency / 1000.0);
        Assert.True(pacer.DueAt(0) <= System.Diagnostics.Stopwatch.GetTimestamp());
        Assert.True(Pacer.Start(null).WaitTurnAsync(1_000_000, CancellationToken.None).AsTask().IsCompleted); // no rate: never waits
    }
}
