using System.Diagnostics;

namespace Granary.Tests.Silo;

/// <summary>
/// Runs the real silo (<c>Granary.Silo.dll</c>, built beside the tests) with given settings, for silos expected to
/// refuse to start: waits (generously) for it to exit and keeps what it printed.
/// </summary>
internal static class SiloRun
{
    /// <summary>The exit code and the output of a silo run to its end.</summary>
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit code {ExitCode}; stderr: {Stderr}; stdout: {Stdout}";
    }

    /// <summary>Starts the silo with <paramref name="settings"/> (each a <c>--Key=Value</c>) and waits for it to exit.</summary>
    /// <exception cref="TimeoutException">It was still running after <paramref name="timeout"/> (then it is killed).</exception>
    public static Task<Result> UntilExitAsync(TimeSpan timeout, params string[] settings) =>
        UntilExitAsync(timeout, new Dictionary<string, string>(), settings);

    /// <summary>Starts the silo with <paramref name="environment"/> added to its environment and <paramref name="settings"/>, and waits for it to exit.</summary>
    /// <exception cref="TimeoutException">It was still running after <paramref name="timeout"/> (then it is killed).</exception>
    public static async Task<Result> UntilExitAsync(TimeSpan timeout, IReadOnlyDictionary<string, string> environment, params string[] settings)
    {
        string silo = Path.Combine(AppContext.BaseDirectory, "Granary.Silo.dll");
        var start = new ProcessStartInfo(SiloProcess.DotNetHost(), [silo, .. settings])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the silo");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"The silo still ran after {timeout}: it did not refuse to start. Output: {await stdout} {await stderr}");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
