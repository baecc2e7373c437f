using System.Text.Json;
using Granary.LoadTest.Cli;

namespace Granary.Tests.LoadTest;

/// <summary>
/// The tool's verify run for real against three silo processes in cluster mode, random ones killed with SIGKILL under
/// load. A class of its own (so a collection of its own): it takes minutes and runs beside the other slow classes.
/// </summary>
public sealed class LoadTestClusterVerifyTests
{
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
