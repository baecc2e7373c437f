using System.Text.Json;
using Granary.LoadTest.Cli;
using Granary.LoadTest.Scenarios;

namespace Granary.Tests.LoadTest;

/// <summary>The same-run baselines of the load test: the Redis streams peer (W1, W2) and the raw disk (W4).</summary>
public sealed class PeerAndDiskCommandTests
{
    [Fact]
    public void Redis_DefaultsAreTheComparisonsSettings()
    {
        var parse = LoadTestCommands.Build(TextWriter.Null).Parse("redis --messages 1000000");
        Assert.Empty(parse.Errors);

        Assert.Equal(new RedisSettings(1_000_000, 100, 1000, 1000, "granary-loadtest", "loadtest"), RedisCommand.ToSettings(parse));
        Assert.Throws<ArgumentException>(() => RedisCommand.ToSettings(LoadTestCommands.Build(TextWriter.Null).Parse("redis --messages 5 --window 0")));
    }

    [Fact]
    public void StreamEntryIds_GiveTheirMilliseconds()
    {
        Assert.Equal(1733490000123, RedisScenario.IdMilliseconds("1733490000123-7"));
        Assert.Equal(5, RedisScenario.IdMilliseconds("5"));
    }

    [Fact]
    public async Task Redis_ProducesThenDrainsEveryMessage_AgainstAServerItStarts_AndRemovesIt()
    {
        // Not a CI dependency: only where Debian's redis-server is installed (apt-get install redis-server).
        Assert.SkipUnless(File.Exists("/usr/bin/redis-server"), "redis-server is not installed");
        using var data = new TempDirectory();
        string json = Path.Combine(data.Path, "redis.json");
        var output = new StringWriter();

        int exit = await LoadTestCommands.Build(output)
            .Parse($"redis --redis-server /usr/bin/redis-server --messages 3000 --size 64 --data-dir {data.Path} --json {json}").InvokeAsync();

        Assert.True(exit == 0, output.ToString());
        using var reports = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var (produce, consume) = (reports.RootElement[0], reports.RootElement[1]);
        Assert.Equal("redis-produce", produce.GetProperty("command").GetString());
        Assert.Equal("redis-consume", consume.GetProperty("command").GetString());
        Assert.All([produce, consume], r => Assert.Equal(3000, r.GetProperty("messages").GetInt64()));
        Assert.All([produce, consume], r => Assert.Equal(0, r.GetProperty("errors").GetInt64()));
        Assert.Equal(3000 * 64 / consume.GetProperty("seconds").GetDouble() / 1e6, consume.GetProperty("megabytesPerSecond").GetDouble(), 6);
        Assert.Contains("--appendfsync always", output.ToString(), StringComparison.Ordinal);
        Assert.Empty(Directory.GetDirectories(data.Path)); // the server's AOF went with it
    }

    [Fact]
    public async Task Redis_WithWarmup_AddsAndDrainsTheWarmupStreamFirst_AndReportsOnlyTheMeasuredMessages()
    {
        Assert.SkipUnless(File.Exists("/usr/bin/redis-server"), "redis-server is not installed");
        using var data = new TempDirectory();
        string json = Path.Combine(data.Path, "redis.json");
        var output = new StringWriter();
        await using var server = await RedisServer.StartAsync("/usr/bin/redis-server", data.Path, TestContext.Current.CancellationToken);

        int exit = await LoadTestCommands.Build(output)
            .Parse($"redis --redis {server.Endpoint} --messages 3000 --size 64 --warmup 500 --json {json}").InvokeAsync();

        Assert.True(exit == 0, output.ToString());
        using var reports = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        Assert.All([reports.RootElement[0], reports.RootElement[1]], r =>
        {
            Assert.Equal(3000, r.GetProperty("messages").GetInt64());
            Assert.Equal(500, r.GetProperty("counts").GetProperty("warm-up messages").GetInt64());
            Assert.Equal("500", r.GetProperty("settings").GetProperty("warmup").GetString());
        });
        Assert.Contains("500 of 500 warm-up messages added first to stream granary-loadtest-warmup", output.ToString(), StringComparison.Ordinal);
        await using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(server.Endpoint);
        var db = connection.GetDatabase();
        Assert.Equal(500, await db.StreamLengthAsync("granary-loadtest-warmup"));
        Assert.Equal(3000, await db.StreamLengthAsync("granary-loadtest"));
        Assert.Equal(0, (await db.StreamPendingAsync("granary-loadtest-warmup", "loadtest")).PendingMessageCount); // drained and acked
        var group = Assert.Single(await db.StreamGroupInfoAsync("granary-loadtest-warmup"));
        Assert.Equal(500L, group.EntriesRead);
    }

    [Fact]
    public async Task DiskProbe_ReportsTheLatencyOfPwritePlusFdatasync()
    {
        using var data = new TempDirectory();
        string json = Path.Combine(data.Path, "disk.json");
        var output = new StringWriter();

        int exit = await LoadTestCommands.Build(output).Parse($"disk-probe --data-dir {data.Path} --seconds 0.3 --json {json}").InvokeAsync();

        Assert.True(exit == 0, output.ToString());
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        Assert.True(report.RootElement.GetProperty("messages").GetInt64() > 0);
        var latency = report.RootElement.GetProperty("latencyMs");
        Assert.True(latency.GetProperty("p50").GetDouble() > 0);
        Assert.True(latency.GetProperty("p99").GetDouble() >= latency.GetProperty("p50").GetDouble());
        Assert.Equal(["disk.json"], Directory.GetFiles(data.Path).Select(Path.GetFileName)); // the probe file is gone
    }
}
