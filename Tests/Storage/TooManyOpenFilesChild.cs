using System.Globalization;
using Granary.Storage;

namespace Granary.Tests.Storage;

/// <summary>
/// A child process for <see cref="TooManyOpenFilesTests"/>, started under a low <c>ulimit -n</c>: opens partition logs
/// until the process runs out of file descriptors, checks that the failure is a too-many-open-files error the
/// storage engine recognises (not a crash), closes some logs and checks that opening works again.
/// Prints one line per finding; exit code 0 when everything held.
/// </summary>
internal static class TooManyOpenFilesChild
{
    public const string Command = "too-many-open-files";

    public static async Task<int> RunAsync(string[] args)
    {
        System.Console.WriteLine("start"); // the console loads what it needs now, while descriptors are free
        var logs = new List<PartitionLog>();
        Exception? failure = null;
        try
        {
            for (int i = 0; i < 2000 && failure is null; i++)
            {
                try
                {
                    logs.Add(PartitionLog.Open(Path.Combine(args[0], i.ToString(CultureInfo.InvariantCulture)), LogTestKit.Options()));
                }
                catch (Exception e)
                {
                    failure = e;
                }
            }
            if (failure is null) { System.Console.WriteLine("never ran out"); return 2; }
            bool recognised = OpenFileExhaustion.Observe(failure);
            foreach (var log in logs.Take(10)) await log.DisposeAsync();
            logs.RemoveRange(0, 10);
            System.Console.WriteLine($"opened {logs.Count + 10}, then {failure.GetType().Name}: {failure.Message}");
            if (!recognised) return 3;
            System.Console.WriteLine($"recognised, seen {OpenFileExhaustion.Count}");

            logs.Add(PartitionLog.Open(Path.Combine(args[0], "again"), LogTestKit.Options()));
            await logs[^1].AppendAsync(LogTestKit.Batch("after"));
            System.Console.WriteLine("reopened");
            return 0;
        }
        finally
        {
            foreach (var log in logs) await log.DisposeAsync();
        }
    }
}
