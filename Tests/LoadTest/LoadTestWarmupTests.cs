using System.Globalization;
using System.Text.Json;
using Granary.LoadTest.Cli;
using Granary.LoadTest.Reporting;
using Granary.LoadTest.Scenarios;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Granary.Tests.LoadTest;

/// <summary>
/// <c>--warmup N</c>: an unmeasured phase on <c>{topic}-warmup</c> (or the stream <c>{stream}-warmup</c>) before the
/// measured one, so that both sides of a comparison are measured with their JIT settled.
/// </summary>
[Collection(BrokerCluster.Name)]
public sealed class LoadTestWarmupTests(BrokerClusterFixture fixture)
{
    private static System.CommandLine.ParseResult Parse(string line) => LoadTestCommands.Build(TextWriter.Null).Parse(line);

    private static ProduceSettings Produce(string topic, long messages, long warmup) =>
        new(topic, messages, 32, 2, 1, null, 256 * 1024, 0, 1000, Idempotence: true, Warmup: warmup);

    private static ConsumeSettings Consume(string topic, long messages, long warmup) =>
        new(topic, "g", messages, 1, DeliveryMode.Shared, 2048, AckStyle.Forget, Warmup: warmup);

    [Fact]
    public void WarmupOption_MapsOnProduceConsumeAndRedis_DefaultsToNone_AndRefusesNegative()
    {
        Assert.Equal(200_000, LoadTestCommands.ToProduce(Parse("produce --topic T --messages 5 --warmup 200000")).Warmup);
        Assert.Equal(0, LoadTestCommands.ToProduce(Parse("produce --topic T --messages 5")).Warmup);
        Assert.Equal(300, LoadTestCommands.ToConsume(Parse("consume --topic T --group g --messages 5 --warmup 300")).Warmup);
        Assert.Equal(0, LoadTestCommands.ToConsume(Parse("consume --topic T --group g --messages 5")).Warmup);
        Assert.Equal(400, RedisCommand.ToSettings(Parse("redis --messages 5 --warmup 400")).Warmup);
        Assert.Equal(0, RedisCommand.ToSettings(Parse("redis --messages 5")).Warmup);

        Assert.Throws<ArgumentException>(() => LoadTestCommands.ToProduce(Parse("produce --topic T --messages 5 --warmup -1")));
        Assert.Throws<ArgumentException>(() => LoadTestCommands.ToConsume(Parse("consume --topic T --group g --messages 5 --warmup -1")));
        Assert.Throws<ArgumentException>(() => RedisCommand.ToSettings(Parse("redis --messages 5 --warmup -1")));

        // The warm-up phase is the same settings on the warm-up topic.
        var produce = LoadTestCommands.ToProduce(Parse("produce --topic w1 --messages 1000 --size 512 --window 7 --warmup 50"));
        Assert.Equal(produce with { Topic = "w1-warmup", Messages = 50, Warmup = 0 }, produce.WarmupPhase);
        Assert.Equal(["w1-warmup-0", "w1-warmup-1"], (produce with { Topics = 2 }).WarmupPhase.TopicNames);
        Assert.Equal("granary-loadtest-warmup", RedisCommand.ToSettings(Parse("redis --messages 5 --warmup 400")).WarmupPhase.Stream);

        var e2e = LoadTestCommands.ToEndToEnd(Parse("e2e --topic w3 --rate 100 --duration 30 --warmup-seconds 5"));
        Assert.Equal(TimeSpan.FromSeconds(5), e2e.Warmup);
        Assert.Equal(e2e with { Topic = "w3-warmup", Duration = TimeSpan.FromSeconds(5), Warmup = TimeSpan.Zero }, e2e.WarmupPhase);
        Assert.Equal(TimeSpan.Zero, LoadTestCommands.ToEndToEnd(Parse("e2e --topic w3 --rate 100 --duration 30")).Warmup);
        Assert.Throws<ArgumentException>(() => LoadTestCommands.ToEndToEnd(Parse("e2e --topic w3 --rate 100 --duration 30 --warmup-seconds -1")));
    }

    [Fact]
    public async Task ProduceThenConsume_WithWarmup_UseTheWarmupTopicFirst_AndReportOnlyTheMeasuredMessages()
    {
        string topic = BrokerClusterFixture.UniqueTopic("warm");
        var output = new StringWriter();
        var ct = TestContext.Current.CancellationToken;

        var produced = await ProduceScenario.RunAsync(fixture.Client, Produce(topic, 1000, warmup: 300), output, ct);

        Assert.Equal(1000, produced.Messages);
        Assert.Equal(0, produced.Errors);
        Assert.Equal(1000 * 32 / produced.Seconds / 1e6, produced.MegabytesPerSecond, 6);
        Assert.Equal(300, produced.Counts["warm-up messages"]);
        Assert.Equal(0, produced.Counts["warm-up errors"]);
        Assert.Equal("300", produced.Settings["warmup"]);
        Assert.Contains($"300 of 300 warm-up messages sent first to {topic}-warmup", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(1000, await StoredAsync(topic));
        Assert.Equal(300, await StoredAsync($"{topic}-warmup"));
        using (var json = JsonDocument.Parse(produced.ToJson()))
        {
            Assert.Equal(1000, json.RootElement.GetProperty("messages").GetInt64());
            Assert.Equal(300, json.RootElement.GetProperty("counts").GetProperty("warm-up messages").GetInt64());
        }

        output = new StringWriter();
        var consumed = await ConsumeScenario.RunAsync(fixture.Client, Consume(topic, 1000, warmup: 300), output, ct);

        Assert.Equal(1000, consumed.Messages);
        Assert.Equal(0, consumed.Errors);
        Assert.Equal(300, consumed.Counts["warm-up messages"]);
        string text = output.ToString();
        int warmupLine = text.IndexOf($"300 of 300 warm-up messages drained first from {topic}-warmup by group g", StringComparison.Ordinal);
        Assert.True(warmupLine >= 0, text);
        Assert.True(warmupLine < text.LastIndexOf("[consume ", StringComparison.Ordinal), text); // before the measured drain's progress
        await Eventually.UntilAsync(async () => (await fixture.Client.Admin.GetLagAsync($"{topic}-warmup", "g", ct)).TotalLag == 0);
        await Eventually.UntilAsync(async () => (await fixture.Client.Admin.GetLagAsync(topic, "g", ct)).TotalLag == 0);
    }

    [Fact]
    public async Task ConsumeWithWarmup_WithoutEnoughWarmupMessages_IsRefusedNamingTheTopic_InsteadOfWaitingForever()
    {
        string topic = BrokerClusterFixture.UniqueTopic("warm");
        var ct = TestContext.Current.CancellationToken;

        var missing = await Assert.ThrowsAsync<ArgumentException>(() => ConsumeScenario.RunAsync(fixture.Client, Consume(topic, 10, warmup: 10), TextWriter.Null, ct));
        Assert.Contains($"{topic}-warmup does not exist", missing.Message, StringComparison.Ordinal);

        await ProduceScenario.RunAsync(fixture.Client, Produce($"{topic}-warmup", 5, warmup: 0), TextWriter.Null, ct);
        var few = await Assert.ThrowsAsync<ArgumentException>(() => ConsumeScenario.RunAsync(fixture.Client, Consume(topic, 10, warmup: 10), TextWriter.Null, ct));
        Assert.Contains($"{topic}-warmup holds only 5 messages", few.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SiloMetrics_CoverOnlyTheMeasuredPhase_NotTheWarmup()
    {
        // A stand-in for the silo's /metrics whose "allocated bytes" are 1,000 per message stored (produce) or acknowledged
        // by the group (consume) on both topics: 1,000 bytes/message if the probe reads after the warm-up, 1,300 if before.
        string topic = BrokerClusterFixture.UniqueTopic("warm");
        var ct = TestContext.Current.CancellationToken;
        Func<Task<long>> count = async () => await StoredAsync(topic) + await StoredAsync($"{topic}-warmup");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        app.MapGet("/metrics", async () =>
        {
            long bytes = await count() * 1000;
            return Results.Text(string.Create(CultureInfo.InvariantCulture, $"{SiloAllocationProbe.SeriesName} {bytes}\n"));
        });
        await app.StartAsync(ct);
        using var probe = new SiloAllocationProbe(new Uri(new Uri(app.Urls.Single()), "/metrics"), apiKey: null) { Settle = TimeSpan.FromMilliseconds(100) };

        var produced = await ProduceScenario.RunAsync(fixture.Client, Produce(topic, 1000, warmup: 300), TextWriter.Null, ct, probe);

        Assert.NotNull(produced.SiloAllocation);
        Assert.Equal(1000, produced.SiloAllocation.BytesPerMessage);

        count = async () => await AckedAsync(topic) + await AckedAsync($"{topic}-warmup");
        var consumed = await ConsumeScenario.RunAsync(fixture.Client, Consume(topic, 1000, warmup: 300), TextWriter.Null, ct, probe);

        Assert.NotNull(consumed.SiloAllocation);
        Assert.InRange(consumed.SiloAllocation.BytesPerMessage, 900, 1100); // 1,300 if the warm-up's acks counted
        await app.StopAsync(ct);
    }

    /// <summary>Messages stored in a topic; 0 before it exists.</summary>
    private async Task<long> StoredAsync(string topic)
    {
        try
        {
            return (await fixture.Client.Admin.DescribeTopicAsync(topic)).PartitionDetails.Sum(p => p.EndOffset - p.StartOffset);
        }
        catch (GranaryException e) when (e.Code == GranaryErrorCode.TopicNotFound)
        {
            return 0;
        }
    }

    /// <summary>Messages group <c>g</c> acknowledged on a topic; 0 before the group exists.</summary>
    private async Task<long> AckedAsync(string topic)
    {
        try
        {
            return (await fixture.Client.Admin.GetLagAsync(topic, "g")).Partitions.Sum(p => p.EndOffset - p.Lag);
        }
        catch (GranaryException e) when (e.Code is GranaryErrorCode.GroupNotFound or GranaryErrorCode.TopicNotFound)
        {
            return 0;
        }
    }
}
