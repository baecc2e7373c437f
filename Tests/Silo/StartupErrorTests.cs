using Granary.Silo.Startup;

namespace Granary.Tests.Silo;

/// <summary>
/// A silo whose settings are refused prints the reason on one line of stderr, with no stack trace, and exits with
/// <see cref="SiloExitCodes.Configuration"/> (before, it aborted on an unhandled exception: exit code 134).
/// </summary>
[Trait("Category", "Integration")]
public sealed class StartupErrorTests
{
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(120);

    [Theory]
    // Refused by the admin API's own check, while the host is built.
    [InlineData("--Granary:Admin:Urls=http://0.0.0.0:{admin}", "Granary:Admin:ApiKey")]
    // Refused by an options validator, while the host starts.
    [InlineData("--Granary:SessionTimeout=-00:00:01", "Granary:SessionTimeout must be positive")]
    [InlineData("--Granary:DefaultReplicationFactor=9", "Granary:DefaultReplicationFactor must be between 1 and 7")]
    // Not a number: refused by the configuration binder.
    [InlineData("--Granary:GatewayPort=thirty", "'Granary:GatewayPort'")]
    public async Task RefusedSetting_PrintsTheReasonAndExitsWithTheConfigurationCode(string setting, string reason)
    {
        using var data = new TempDirectory();
        int admin = FreePorts.Next();
        var run = await SiloRun.UntilExitAsync(ExitDeadline,
            $"--Granary:DataDirectory={data.Path}", $"--Granary:SiloPort={FreePorts.Next()}", $"--Granary:GatewayPort={FreePorts.Next()}",
            $"--Granary:Admin:Urls=http://127.0.0.1:{admin}", setting.Replace("{admin}", admin.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));

        Assert.True(run.ExitCode == SiloExitCodes.Configuration, run.ToString());
        string[] lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string line = Assert.Single(lines);
        Assert.StartsWith("Granary silo cannot start: ", line, StringComparison.Ordinal);
        Assert.Contains(reason, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Stdout + run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", run.Stdout + run.Stderr, StringComparison.Ordinal);
    }
}

/// <summary>With security on, the admin API's single shared key is refused at start: keys per principal replace it.</summary>
[Trait("Category", "Integration")]
public sealed class AdminKeyWithSecurityTests
{
    [Fact]
    public async Task AdminApiKey_WithSecurityOn_IsRefusedAtStart_PointingToTheBootstrapKey()
    {
        using var data = new TempDirectory();
        var run = await SiloRun.UntilExitAsync(TimeSpan.FromSeconds(120),
            $"--Granary:DataDirectory={data.Path}", $"--Granary:SiloPort={FreePorts.Next()}", $"--Granary:GatewayPort={FreePorts.Next()}",
            $"--Granary:Admin:Urls=http://127.0.0.1:{FreePorts.Next()}", "--Granary:Admin:ApiKey=legacy-key",
            "--Granary:Security:Enabled=true", $"--Granary:Security:BootstrapKey={Admin.SecureAdminSilo.BootstrapKey}");

        Assert.True(run.ExitCode == SiloExitCodes.Configuration, run.ToString());
        string line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("Granary silo cannot start: Granary:Admin:ApiKey", line, StringComparison.Ordinal);
        Assert.Contains("Granary:Security:BootstrapKey", line, StringComparison.Ordinal);
    }
}
