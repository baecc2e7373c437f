using System.Diagnostics;
using Granary.Storage;

namespace Granary.Tests.Storage;

/// <summary>
/// Issue 16, item 5 (the part the storage engine owns): running out of file descriptors is recognised as such
/// (<see cref="OpenFileExhaustion"/>), so the partition grain answers a retriable PartitionUnavailable and health
/// reports it, and the process neither crashes nor stays broken once handles are free again.
/// </summary>
public sealed class TooManyOpenFilesTests
{
    [Fact]
    public async Task OpeningLogsPastTheDescriptorLimit_FailsRecognisably_AndRecoversOnceHandlesAreFree()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "ulimit -n is how the test lowers the limit");
        using var dir = new TempDirectory();
        var start = new ProcessStartInfo("bash",
            ["-c", "ulimit -n 256 && exec \"$0\" \"$1\" \"$2\" \"$3\"", SiloProcess.DotNetHost(), typeof(Program).Assembly.Location, TooManyOpenFilesChild.Command, dir.Path])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var child = Process.Start(start)!;
        var output = child.StandardOutput.ReadToEndAsync();
        var errors = child.StandardError.ReadToEndAsync();
        await child.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));

        string text = await output + await errors;
        Assert.True(child.ExitCode == 0, $"exit {child.ExitCode}: {text}");
        Assert.Contains("recognised", text);
        Assert.Contains("reopened", text);
    }

    [Fact]
    public async Task ReadingALogWithFarMoreSealedSegmentsThanTheDescriptorLimit_WorksThroughTheHandleCache()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "ulimit -n is how the test lowers the limit");
        using var dir = new TempDirectory();
        var start = new ProcessStartInfo("bash",
            ["-c", "ulimit -n 256 && exec \"$0\" \"$1\" \"$2\" \"$3\" \"$4\"", SiloProcess.DotNetHost(), typeof(Program).Assembly.Location, TooManyOpenFilesChild.Command, dir.Path, "sealed"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var child = Process.Start(start)!;
        var output = child.StandardOutput.ReadToEndAsync();
        var errors = child.StandardError.ReadToEndAsync();
        await child.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));

        string text = await output + await errors;
        Assert.True(child.ExitCode == 0, $"exit {child.ExitCode}: {text}");
        Assert.Contains($"read {TooManyOpenFilesChild.SealedSegments} records", text);
        Assert.Contains("reopened and read all", text);
    }

    [Fact]
    public void Observe_TooManyOpenFiles_IsRecorded_OtherErrorsAreNot()
    {
        long before = OpenFileExhaustion.Count;
        Assert.False(OpenFileExhaustion.Observe(new IOException("No space left on device", 28)));
        Assert.True(OpenFileExhaustion.Observe(new IOException("Too many open files : '/data/x.log'", 24)));
        Assert.True(OpenFileExhaustion.Count > before);
        Assert.True(OpenFileExhaustion.SeenWithin(TimeSpan.FromMinutes(1)));
    }
}
