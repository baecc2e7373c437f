using System.Text.Json;
using Granary.LoadTest.Cli;

namespace Granary.Tests.LoadTest;

/// <summary>
/// The tool's verify run for real against one silo process that it kills with SIGKILL under load. A class of its own
/// (so a collection of its own): it takes minutes and runs beside the other slow classes.
/// </summary>
public sealed class LoadTestVerifyTests
{
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
}
