using System.Text.Json;
using Granary.LoadTest.Cli;

namespace Granary.Tests.LoadTest;

/// <summary>The tool run for real: an embedded silo, and verify against a silo process it kills.</summary>
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
    public async Task Verify_KillsTheSiloUnderLoad_AndFindsNothingLost()
    {
        using var data = new TempDirectory();
        string json = Path.Combine(data.Path, "verify.json");
        var output = new StringWriter();
        int exit = await LoadTestCommands.Build(output)
            .Parse($"verify --messages 3000 --rate 1000 --kill-silo-every 1.5 --data-dir {data.Path} --json {json}").InvokeAsync();

        Assert.True(exit == 0, output.ToString());
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var counts = report.RootElement.GetProperty("counts");
        Assert.Equal(3000, counts.GetProperty("confirmed").GetInt64());
        Assert.Equal(0, counts.GetProperty("lost").GetInt64());
        Assert.Equal(0, counts.GetProperty("unexpected").GetInt64());
        Assert.True(counts.GetProperty("silo kills").GetInt64() >= 1, output.ToString());
    }

    [Fact]
    public async Task VerifyOnACluster_KillsRandomSilosUnderLoad_AndFindsNothingLost()
    {
        using var data = new TempDirectory();
        string json = Path.Combine(data.Path, "verify.json");
        var output = new StringWriter();
        int exit = await LoadTestCommands.Build(output)
            // 35 s of sends at this rate: the second kill waits for the first victim to serve again (about 10 s here),
            // so it comes well before the last send.
            .Parse($"verify --silos 3 --messages 7000 --rate 200 --kill-silo-every 3 --data-dir {data.Path} --json {json}").InvokeAsync();

        Assert.True(exit == 0, output.ToString());
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var counts = report.RootElement.GetProperty("counts");
        Assert.Equal(7000, counts.GetProperty("confirmed").GetInt64());
        Assert.Equal(0, counts.GetProperty("lost").GetInt64());
        Assert.Equal(0, counts.GetProperty("unexpected").GetInt64());
        Assert.True(counts.GetProperty("silo kills").GetInt64() >= 2, output.ToString());
        Assert.Equal("3", report.RootElement.GetProperty("settings").GetProperty("silos").GetString());
    }
}
