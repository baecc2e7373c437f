using System.Globalization;
using Granary.Storage;

namespace Granary.Tests.Storage;

/// <summary>
/// A child process for <see cref="TooManyOpenFilesTests"/>, started under a low <c>ulimit -n</c>: opens partition logs
/// until the process runs out of file descriptors, checks that the failure is a too-many-open-files error the
/// storage engine recognises (not a crash), closes some logs and checks that opening works again.
/// Prints one line per finding; exit code 0 when everything held. With a second argument <c>sealed</c> it instead
/// writes a log of <see cref="SealedSegments"/> segments, far more than the limit allows open at once, and reads it
/// all back, before and after reopening it, through a <see cref="SegmentHandleCache"/> of the default capacity.
/// </summary>
internal static class TooManyOpenFilesChild
{
    public const string Command = "too-many-open-files";

    public const int SealedSegments = 500;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 1 && args[1] == "sealed") return await ReadManySealedSegmentsAsync(args[0]);
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

    private static async Task<int> ReadManySealedSegmentsAsync(string directory)
    {
        System.Console.WriteLine($"start, limit {SegmentHandleCache.ProcessOpenFileLimit()}");
        var cache = new SegmentHandleCache(SegmentHandleCache.DefaultCapacity());
        var options = LogTestKit.Options(FlushPolicy.None, segmentBytes: 4096);
        options.SharedHandleCache = cache;
        static string Payload(int i) => $"{i}:{new string('s', 3500)}"; // one batch per segment
        var expected = Enumerable.Range(0, SealedSegments).Select(Payload).ToList();

        await using (var log = PartitionLog.Open(directory, options))
        {
            foreach (var payload in expected) await log.AppendAsync(LogTestKit.Batch(payload));
            if (log.SegmentCount < SealedSegments) { System.Console.WriteLine($"only {log.SegmentCount} segments"); return 4; }
            if (!(await LogTestKit.ReadAllPayloadsAsync(log)).SequenceEqual(expected)) { System.Console.WriteLine("wrong records"); return 5; }
            System.Console.WriteLine($"read {SealedSegments} records from {log.SegmentCount} segments, {cache.OpenHandles} cached handles (capacity {cache.Capacity})");
        }
        await using (var reopened = PartitionLog.Open(directory, options))
        {
            if (!(await LogTestKit.ReadAllPayloadsAsync(reopened)).SequenceEqual(expected)) { System.Console.WriteLine("wrong records after reopening"); return 6; }
            System.Console.WriteLine($"reopened and read all, {cache.OpenHandles} cached handles, {OpenFileExhaustion.Count} descriptor exhaustions");
        }
        return cache.OpenHandles == 0 ? 0 : 7;
    }
}
