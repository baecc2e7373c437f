using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Granary.Tests.Fixtures;

/// <summary>
/// strace attached to this test process for a few system calls, to check what the code asks of the kernel (fsyncs
/// that no test could observe otherwise). Every thread is traced and slowed down while attached, so keep the window
/// short. Without Linux, strace or the right to trace, the test is reported as skipped, with the reason.
/// </summary>
public sealed partial class SyscallTrace : IDisposable
{
    private readonly Process _strace;
    private readonly string _output;
    private bool _stopped;

    private SyscallTrace(Process strace, string output)
    {
        _strace = strace;
        _output = output;
    }

    /// <summary>Attaches strace (fds shown with their paths) and returns once every thread is traced.</summary>
    public static async Task<SyscallTrace> AttachOrSkipAsync(params string[] syscalls)
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("needs strace on Linux: not Linux");
        string output = Path.Combine(Path.GetTempPath(), $"granary-strace-{Guid.NewGuid():N}.txt");
        Process strace;
        try
        {
            strace = Process.Start(new ProcessStartInfo("strace", ["-f", "-y", "-e", "trace=" + string.Join(',', syscalls), "-o", output, "-p", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            {
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Skip($"needs strace on Linux: {e.Message}");
            throw; // not reached
        }
        var trace = new SyscallTrace(strace, output);
        // "strace: Process N attached with M threads" comes once all threads are traced.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            string? line = await strace.StandardError.ReadLineAsync(deadline.Token);
            if (line is null)
            {
                trace.Dispose();
                Assert.Skip($"strace could not attach to the test process (exit code {strace.ExitCode})");
            }
            if (line.Contains("attached", StringComparison.Ordinal)) break;
        }
        _ = strace.StandardError.ReadToEndAsync(CancellationToken.None); // keep draining so strace never blocks on it
        return trace;
    }

    /// <summary>Detaches strace and returns the paths of the directories and files that were fsynced.</summary>
    public async Task<IReadOnlyList<string>> StopAndGetFsyncedPathsAsync()
    {
        await StopAsync();
        var paths = new List<string>();
        foreach (var line in File.ReadLines(_output))
        {
            if (FsyncPattern().Match(line) is { Success: true } match) paths.Add(match.Groups[1].Value);
        }
        return paths;
    }

    private async Task StopAsync()
    {
        if (_stopped) return;
        _stopped = true;
        if (!_strace.HasExited)
        {
            // SIGINT makes strace detach cleanly; a killed tracer could leave a thread of this process stopped.
            using (var interrupt = Process.Start("kill", ["-INT", _strace.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await interrupt.WaitForExitAsync();
            await _strace.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    public void Dispose()
    {
        StopAsync().GetAwaiter().GetResult();
        _strace.Dispose();
        File.Delete(_output);
    }

    // fsync(57</tmp/dir>) and fdatasync(57</tmp/file>), finished or not ("<unfinished ...>" when threads interleave).
    [GeneratedRegex(@"\bf(?:data)?sync\(\d+<([^>]*)>")]
    private static partial Regex FsyncPattern();
}
