using Granary.Storage;

namespace Granary.Tests.Storage;

/// <summary>
/// A child process for <see cref="Fixtures.SyscallTrace"/>: opens (creating) the partition log at the given directory
/// with the storage tests' options and closes it again, so strace sees just what opening a new log does.
/// </summary>
internal static class OpenLogChild
{
    public const string Command = "open-log";

    public static async Task<int> RunAsync(string[] args)
    {
        await using var log = PartitionLog.Open(args[0], LogTestKit.Options());
        return 0;
    }
}
