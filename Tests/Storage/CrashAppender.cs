using Granary.Records;
using System.Globalization;
using Granary.Storage;

namespace Granary.Tests.Storage;

/// <summary>
/// The child process of <see cref="CrashTests"/>: opens a log under <see cref="FlushPolicy.Always"/>, appends from
/// several tasks forever, and prints one line per confirmed append, ending in "ok" so a line cut by the kill is
/// recognisable.
/// </summary>
internal static class CrashAppender
{
    public const string Command = "crash-append";

    public static async Task<int> RunAsync(string[] args)
    {
        string directory = args[0];
        int appenders = int.Parse(args[1], CultureInfo.InvariantCulture);
        string run = args[2];
        var options = new PartitionLogOptions { FlushPolicy = FlushPolicy.Always, SegmentBytes = 64 * 1024, IndexIntervalBytes = 512 };
        var log = PartitionLog.Open(directory, options);
        // System.Console: in this assembly, Console alone means the namespace of the web console's tests.
        var stdout = new StreamWriter(System.Console.OpenStandardOutput()) { AutoFlush = true };
        var gate = new object();
        await Task.WhenAll(Enumerable.Range(0, appenders).Select(appender => Task.Run(async () =>
        {
            for (int seq = 0; ; seq++)
            {
                int count = 1 + (seq % 4);
                var batch = RecordBatchBuilder.Encode(Enumerable.Range(0, count).Select(i => new LogRecord(Encoding.UTF8.GetBytes(Payload(run, appender, seq, i)))));
                var result = await log.AppendAsync(batch);
                lock (gate) stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{result.BaseOffset} {count} {run} {appender} {seq} ok"));
            }
        })));
        return 0;
    }

    /// <summary>Varying sizes so that kills land at many different byte positions.</summary>
    public static string Payload(string run, int appender, int seq, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"{run}/{appender}/{seq}/{index}/{new string('x', (seq * 7 + index * 13) % 300)}");
}
