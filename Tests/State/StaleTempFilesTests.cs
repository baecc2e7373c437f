using Granary.Grains.Hosting;
using Granary.Grains.Hosting.StateFiles;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Granary.Tests.State;

/// <summary>Issue 16 item 14: temp files of interrupted state writes are removed when the silo starts.</summary>
public sealed class StaleTempFilesTests
{
    [Fact]
    public void TempFilesOfInterruptedWrites_AreRemoved_AndNothingElse()
    {
        using var data = new TempDirectory();
        var options = new GranaryOptions { DataDirectory = data.Path };
        string cursors = Path.Combine(options.StateDirectory, "granarycursor");
        string partition = Path.Combine(options.LogsDirectory, "orders", "0");
        Directory.CreateDirectory(cursors);
        Directory.CreateDirectory(partition);
        string[] stale =
        [
            Path.Combine(cursors, "0123.state." + Guid.NewGuid().ToString("N") + ".tmp"),
            options.RemindersFile + "." + Guid.NewGuid().ToString("N") + ".tmp",
            Path.Combine(partition, "checkpoint.tmp"),
        ];
        string[] kept =
        [
            Path.Combine(cursors, "0123.state"),
            Path.Combine(cursors, "0123.state.prev"),
            options.RemindersFile,
            Path.Combine(partition, "00000000000000000000.log"),
            Path.Combine(data.Path, "someone-elses.tmp"), // not Granary's: the data directory may hold other things
        ];
        foreach (string file in stale.Concat(kept)) File.WriteAllBytes(file, [1, 2, 3]);

        int removed = new StaleTempFiles(Options.Create(options), NullLogger<StaleTempFiles>.Instance).Clean();

        Assert.Equal(3, removed);
        Assert.All(stale, f => Assert.False(File.Exists(f), f));
        Assert.All(kept, f => Assert.True(File.Exists(f), f));
    }
}
