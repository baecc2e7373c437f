using System.Text.Json;
using Granary.LoadTest.Cli;

namespace Granary.Tests.LoadTest;

/// <summary>The tool run for real on an embedded silo (verify against silo processes it kills: <see cref="LoadTestVerifyTests"/>, <see cref="LoadTestClusterVerifyTests"/>).</summary>
public sealed class LoadTestRunTests
{
    [Fact]
    public async Task ProduceEmbedded_SendsEveryMessage_AndWritesTheJsonReport()
    {
        using var data = new TempDirectory();
        string json = Path.Combine(data.Path, "report.json");
        var output = new StringWriter();
        int exit = await LoadTestCommands.Build(output)
            .Parse($"produce --embedded --data-dir {data.Path} --topic t --messages 2000 --size 64 --partitions 2 --json {json}").InvokeAsync();

        Assert.True(exit == 0, output.ToString());
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        Assert.Equal(2000, report.RootElement.GetProperty("messages").GetInt64());
        Assert.True(report.RootElement.GetProperty("messagesPerSecond").GetDouble() > 0);
        Assert.Equal(0, report.RootElement.GetProperty("errors").GetInt64());
        Assert.Empty(Directory.GetDirectories(data.Path)); // the embedded silo's data went with it
    }

    [Fact]
    public async Task ProduceEmbedded_WithWarmup_SaysWhereTheWarmupWent_AndTheJsonCountsOnlyTheMeasuredMessages()
    {
        using var data = new TempDirectory();
        string json = Path.Combine(data.Path, "report.json");
        var output = new StringWriter();
        int exit = await LoadTestCommands.Build(output)
            .Parse($"produce --embedded --data-dir {data.Path} --topic t --messages 2000 --size 64 --partitions 2 --warmup 500 --json {json}").InvokeAsync();

        Assert.True(exit == 0, output.ToString());
        Assert.Contains("500 of 500 warm-up messages sent first to t-warmup", output.ToString(), StringComparison.Ordinal);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        Assert.Equal(2000, report.RootElement.GetProperty("messages").GetInt64());
        Assert.Equal(500, report.RootElement.GetProperty("counts").GetProperty("warm-up messages").GetInt64());
        Assert.Equal("500", report.RootElement.GetProperty("settings").GetProperty("warmup").GetString());
    }

    [Fact]
    public async Task EndToEndEmbedded_WithWarmupSeconds_RunsTheWarmupOnItsOwnTopicFirst_AndReportsOnlyTheMeasuredRun()
    {
        using var data = new TempDirectory();
        string json = Path.Combine(data.Path, "report.json");
        var output = new StringWriter();
        int exit = await LoadTestCommands.Build(output)
            .Parse($"e2e --embedded --data-dir {data.Path} --topic t --rate 200 --duration 1 --warmup-seconds 0.5 --json {json}").InvokeAsync();

        Assert.True(exit == 0, output.ToString());
        Assert.Contains("100 warm-up messages sent and received first on t-warmup", output.ToString(), StringComparison.Ordinal);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        Assert.Equal(200, report.RootElement.GetProperty("messages").GetInt64());
        Assert.Equal(100, report.RootElement.GetProperty("counts").GetProperty("warm-up messages").GetInt64());
        Assert.Equal("0.5", report.RootElement.GetProperty("settings").GetProperty("warmup-seconds").GetString());
    }
}
