namespace Granary.Tests.Silo;

/// <summary>
/// The silo reads its settings once: no file watcher on its working directory. ASP.NET's reload-on-change watched the
/// content root recursively (the working directory, where the default data directory lives), one inotify watch per
/// directory, so every partition directory took a watch (157 for 100 partitions) and every segment write woke the
/// watcher's thread. Linux only: the watches are read from /proc/PID/fdinfo.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SettingsFileWatchTests
{
    [Fact]
    public async Task Silo_WatchesNoFiles_WhileItWritesPartitions()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("inotify watches are read from /proc: Linux only");
        using var data = new TempDirectory();
        await using var silo = new SiloProcess(data.Path);
        silo.Start();
        await using (var client = await silo.ConnectWhenReadyAsync())
        {
            await client.Admin.CreateTopicAsync("watched", new TopicOptions { Partitions = 4 });
            await using var producer = client.CreateProducer("watched");
            for (int i = 0; i < 20; i++) await producer.SendAsync(new OutgoingMessage(new byte[] { (byte)i }));
        }

        int pid = silo.ProcessId ?? throw new InvalidOperationException("the silo is not running");
        var watches = Directory.EnumerateFiles($"/proc/{pid}/fdinfo")
            .SelectMany(file => { try { return File.ReadAllLines(file); } catch (IOException) { return []; } })
            .Count(line => line.StartsWith("inotify wd:", StringComparison.Ordinal));
        Assert.True(watches == 0, $"the silo holds {watches} inotify watches");
    }
}
