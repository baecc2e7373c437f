using System.Diagnostics;
using System.Text.RegularExpressions;
using Granary.LoadTest.Targets;

namespace Granary.Tests.Fixtures;

/// <summary>
/// A child process of the test assembly (a command of <see cref="Program"/>) run under strace for a few system calls,
/// to check what the code asks of the kernel (fsyncs that no test could observe otherwise). The child is traced, never
/// the test process itself: attaching to it would stop and slow every thread of the tests running beside, and follow
/// the processes they start. Without Linux or strace the test is reported as skipped, with the reason.
/// </summary>
public static partial class SyscallTrace
{
    /// <summary>Runs <c>Granary.Tests &lt;command&gt;</c> under strace and returns the paths of the directories and files it fsynced.</summary>
    public static async Task<IReadOnlyList<string>> FsyncedPathsOfChildAsync(params string[] command) =>
        [.. (await TraceChildAsync(["fsync", "fdatasync"], command)).Select(line => FsyncPattern().Match(line)).Where(m => m.Success).Select(m => m.Groups[1].Value)];

    /// <summary>
    /// Runs <c>Granary.Tests &lt;command&gt;</c> under strace (fds shown with their paths) and returns the trace lines of
    /// the given system calls, in the order strace wrote them.
    /// </summary>
    public static async Task<IReadOnlyList<string>> TraceChildAsync(string[] syscalls, params string[] command)
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("needs strace on Linux: not Linux");
        string output = Path.Combine(Path.GetTempPath(), $"granary-strace-{Guid.NewGuid():N}.txt");
        try
        {
            var start = new ProcessStartInfo("strace", ["-f", "-y", "-e", "trace=" + string.Join(',', syscalls), "-o", output, SiloProcess.DotNetHost(), typeof(Program).Assembly.Location, .. command])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            Process strace;
            try
            {
                strace = Process.Start(start)!;
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                Assert.Skip($"needs strace on Linux: {e.Message}");
                throw; // not reached
            }
            using (strace)
            {
                var stdout = strace.StandardOutput.ReadToEndAsync();
                var stderr = strace.StandardError.ReadToEndAsync();
                using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
                try
                {
                    await strace.WaitForExitAsync(deadline.Token);
                }
                catch (OperationCanceledException)
                {
                    strace.Kill(entireProcessTree: true);
                    throw new TimeoutException("the traced child did not finish within 2 minutes");
                }
                Assert.True(strace.ExitCode == 0, $"the traced child failed (exit code {strace.ExitCode}): {await stdout} {await stderr}");
            }
            return [.. File.ReadLines(output)];
        }
        finally
        {
            File.Delete(output);
        }
    }

    // fsync(57</tmp/dir>) and fdatasync(57</tmp/file>), finished or not ("<unfinished ...>" when threads interleave).
    [GeneratedRegex(@"\bf(?:data)?sync\(\d+<([^>]*)>")]
    private static partial Regex FsyncPattern();
}
