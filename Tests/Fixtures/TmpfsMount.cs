using System.Diagnostics;

namespace Granary.Tests.Fixtures;

/// <summary>
/// A tiny tmpfs mounted for one test, so that a full disk is a real ENOSPC from the kernel. Mounting needs root
/// (CI runs as root); elsewhere the test is reported as skipped, with the reason.
/// </summary>
public sealed class TmpfsMount : IDisposable
{
    private readonly TempDirectory _directory = new();

    private TmpfsMount(int sizeKiB) => SizeKiB = sizeKiB;

    public string Path => _directory.Path;
    public int SizeKiB { get; }

    public static TmpfsMount MountOrSkip(int sizeKiB)
    {
        var mount = new TmpfsMount(sizeKiB);
        if (!OperatingSystem.IsLinux() || Run("mount", "-t", "tmpfs", "-o", $"size={sizeKiB}k", "tmpfs", mount.Path) is { } error)
        {
            mount._directory.Dispose();
            Assert.Skip($"needs a tmpfs mount (Linux, root): {(OperatingSystem.IsLinux() ? "mount failed" : "not Linux")}");
        }
        return mount;
    }

    public void Dispose()
    {
        Run("umount", "-l", Path);
        _directory.Dispose();
    }

    private static string? Run(string file, params string[] args)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? null : error;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return e.Message;
        }
    }
}
