using System.Diagnostics;

namespace Granary.LoadTest.Targets;

/// <summary>Runs the system tools that test servers need (apt-get, initdb, pg_ctl), failing with their output.</summary>
internal static class ExternalCommand
{
    /// <summary>True when this process may install packages and switch users.</summary>
    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>Runs <paramref name="file"/> (as <paramref name="user"/> through runuser, when given) and waits for it.</summary>
    /// <exception cref="InvalidOperationException">It exited with a non-zero code; the message has its output.</exception>
    public static async Task RunAsync(string file, string[] arguments, string? user = null)
    {
        var start = user is null ? new ProcessStartInfo(file, arguments) : new ProcessStartInfo("runuser", ["-u", user, "--", file, .. arguments]);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await error}{await output}");
    }

    /// <summary>Installs a Debian package (a fresh machine has only the .NET SDK); needs root.</summary>
    public static async Task InstallPackageAsync(string package)
    {
        await RunAsync("apt-get", ["update", "-qq"]);
        await RunAsync("apt-get", ["install", "-y", "-qq", package]);
    }
}
