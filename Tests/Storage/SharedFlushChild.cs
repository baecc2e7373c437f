using Granary.Storage;

namespace Granary.Tests.Storage;

/// <summary>
/// A child process for <see cref="Fixtures.SyscallTrace"/>: opens two partition logs that share a
/// <see cref="FileSystemFlusher"/>, awaits one append to each under <see cref="FlushPolicy.Always"/>, prints "confirmed"
/// and exits without closing them, so the trace shows what made the confirmed appends durable and nothing of a close.
/// </summary>
internal static class SharedFlushChild
{
    public const string Command = "shared-flush-append";

    public static async Task<int> RunAsync(string[] args)
    {
        string root = args[0];
        Directory.CreateDirectory(root);
        var flusher = new FileSystemFlusher(root);
        var options = LogTestKit.Options();
        options.SharedFlusher = flusher;
        var logs = new[] { PartitionLog.Open(Path.Combine(root, "a"), options), PartitionLog.Open(Path.Combine(root, "b"), options) };
        await Task.WhenAll(logs.Select(log => log.AppendAsync(LogTestKit.Batch("x")).AsTask()));
        // A marker in the trace between the appends' flushes and the exit.
        using (File.Create(Path.Combine(root, "confirmed"))) { }
        Environment.Exit(0);
        return 0;
    }
}
