using System.Diagnostics;
using System.Globalization;
using Granary.LoadTest.Reporting;
using Granary.Storage;

namespace Granary.LoadTest.Scenarios;

/// <summary>
/// <c>log-bench</c>: the partition log engine under <see cref="FlushPolicy.Always"/> for 100 B and 1 KB records,
/// batches of 1, 100 and 1000, 1 and 8 concurrent appenders; the raw limits of the same disk measured in the same
/// run; and reading a log back from the page cache. Prints a Markdown table and the three target checks.
/// </summary>
internal sealed class LogBenchmark(string dataDirectory, TimeSpan caseDuration, TextWriter output)
{
    private static readonly int[] RecordSizes = [100, 1024];
    private static readonly int[] BatchSizes = [1, 100, 1000];
    private static readonly int[] AppenderCounts = [1, 8];

    private sealed record CaseResult(int RecordBytes, int BatchRecords, int Appenders, int WriteBytes, double RecordsPerSecond, double MegabytesPerSecond, double FsyncsPerSecond, long P50Micros, long P99Micros);

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        string root = Path.Combine(Path.GetFullPath(dataDirectory), $"log-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        try
        {
            output.WriteLine($"log-bench on {root} ({caseDuration.TotalSeconds:0.#} s a case, FlushPolicy.Always)");
            var results = new List<CaseResult>();
            foreach (int recordBytes in RecordSizes)
                foreach (int batchRecords in BatchSizes)
                    foreach (int appenders in AppenderCounts)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        var result = await RunCaseAsync(root, recordBytes, batchRecords, appenders, cancellationToken);
                        results.Add(result);
                        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  {recordBytes,5} B x {batchRecords,4} x {appenders} appenders: {result.RecordsPerSecond,12:N0} records/s"));
                    }

            var bulk = results.Single(r => r.RecordBytes == 1024 && r.BatchRecords == 1000 && r.Appenders == 1);
            double rawBandwidth = DiskProbe.SequentialSyncedBandwidth(root, bulk.WriteBytes, caseDuration);
            var single = results.Single(r => r.RecordBytes == 100 && r.BatchRecords == 1 && r.Appenders == 1);
            double rawSyncRate = DiskProbe.SyncedWriteRate(root, single.WriteBytes, caseDuration);
            double readBytesPerSecond = await MeasureReadAsync(root, cancellationToken);

            PrintTable(results);
            var grouped = results.Single(r => r.RecordBytes == 100 && r.BatchRecords == 1 && r.Appenders == 8);
            var bulkBest = results.Where(r => r.RecordBytes == 1024 && r.BatchRecords == 1000).MaxBy(r => r.MegabytesPerSecond)!;
            output.WriteLine();
            output.WriteLine("| disk limit (same run) | value |");
            output.WriteLine("|---|---:|");
            output.WriteLine(Invariant($"| sequential write+fdatasync, {bulk.WriteBytes:N0} B writes | {rawBandwidth / 1e6:N1} MB/s |"));
            output.WriteLine(Invariant($"| single-thread write+fdatasync, {single.WriteBytes} B writes | {rawSyncRate:N0} /s |"));
            output.WriteLine();
            output.WriteLine("| target | measured | required | result |");
            output.WriteLine("|---|---:|---:|---|");
            Check("1 KB x 1000, 1 appender: share of raw synced bandwidth", bulk.MegabytesPerSecond * 1e6 / rawBandwidth, 0.75, "P0");
            Check("1 KB x 1000, best of 1/8 appenders: share of raw synced bandwidth", bulkBest.MegabytesPerSecond * 1e6 / rawBandwidth, 0.75, "P0");
            Check("8 appenders x single 100 B records: multiple of raw fdatasync rate", grouped.RecordsPerSecond / rawSyncRate, 4.0, "0.0x");
            Check("read back from the page cache (GB/s)", readBytesPerSecond / 1e9, 1.0, "0.00");
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private void Check(string name, double measured, double required, string format) =>
        output.WriteLine($"| {name} | {measured.ToString(format, CultureInfo.InvariantCulture)} | {required.ToString(format, CultureInfo.InvariantCulture)} | {(measured >= required ? "met" : "NOT met")} |");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private async Task<CaseResult> RunCaseAsync(string root, int recordBytes, int batchRecords, int appenders, CancellationToken cancellationToken)
    {
        string directory = Path.Combine(root, $"{recordBytes}-{batchRecords}-{appenders}");
        var batch = EncodeBatch(recordBytes, batchRecords);
        await using var log = PartitionLog.Open(directory, new PartitionLogOptions { FlushPolicy = FlushPolicy.Always });
        long flushesBefore = log.FlushCount;
        var recorders = new LatencyRecorder[appenders];
        var stopwatch = Stopwatch.StartNew();
        var deadline = caseDuration;
        var tasks = new Task<long>[appenders];
        for (int a = 0; a < appenders; a++)
        {
            var recorder = recorders[a] = new LatencyRecorder();
            tasks[a] = Task.Run(async () =>
            {
                long appended = 0;
                while (stopwatch.Elapsed < deadline && !cancellationToken.IsCancellationRequested)
                {
                    long start = Stopwatch.GetTimestamp();
                    await log.AppendAsync(batch, cancellationToken).ConfigureAwait(false);
                    recorder.Record(Stopwatch.GetTimestamp() - start);
                    appended++;
                }
                return appended;
            }, cancellationToken);
        }
        long batches = (await Task.WhenAll(tasks)).Sum();
        double elapsed = stopwatch.Elapsed.TotalSeconds;
        long flushes = log.FlushCount - flushesBefore;
        var latency = recorders[0];
        for (int a = 1; a < appenders; a++) latency.Add(recorders[a]);
        double records = batches * (double)batchRecords;
        return new CaseResult(recordBytes, batchRecords, appenders, batch.Length,
            records / elapsed, batches * (double)batch.Length / elapsed / 1e6, flushes / elapsed,
            latency.PercentileMicros(50), latency.PercentileMicros(99));
    }

    /// <summary>Writes a log of about 512 MiB and reads it back twice in 1 MiB reads, with CRC checks, from the page cache.</summary>
    private static async Task<double> MeasureReadAsync(string root, CancellationToken cancellationToken)
    {
        string directory = Path.Combine(root, "read");
        var batch = EncodeBatch(1024, 1000);
        await using var log = PartitionLog.Open(directory, new PartitionLogOptions { FlushPolicy = FlushPolicy.None, SegmentBytes = 128 << 20 });
        while (log.SizeInBytes < (512L << 20)) await log.AppendAsync(batch, cancellationToken).ConfigureAwait(false);

        long bytes = 0;
        var stopwatch = new Stopwatch();
        for (int pass = 0; pass < 3; pass++)
        {
            if (pass == 1) { bytes = 0; stopwatch.Restart(); } // pass 0 warms the page cache and the JIT
            long offset = log.StartOffset;
            while (offset < log.EndOffset)
            {
                using var result = await log.ReadAsync(offset, 1 << 20, cancellationToken: cancellationToken).ConfigureAwait(false);
                bytes += result.Batches.Length;
                offset = result.NextOffset;
            }
        }
        return bytes / stopwatch.Elapsed.TotalSeconds;
    }

    private static byte[] EncodeBatch(int recordBytes, int batchRecords)
    {
        var payload = new byte[recordBytes];
        new Random(recordBytes).NextBytes(payload);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return RecordBatchBuilder.Encode(Enumerable.Range(0, batchRecords).Select(_ => new LogRecord(payload) { TimestampMs = now }));
    }

    private void PrintTable(List<CaseResult> results)
    {
        output.WriteLine();
        output.WriteLine("| record | batch | appenders | records/s | MB/s | fsyncs/s | append p50 | append p99 |");
        output.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            output.WriteLine(Invariant(
                $"| {r.RecordBytes} B | {r.BatchRecords} | {r.Appenders} | {r.RecordsPerSecond:N0} | {r.MegabytesPerSecond:N1} | {r.FsyncsPerSecond:N0} | {FormatMicros(r.P50Micros)} | {FormatMicros(r.P99Micros)} |"));
        }
    }

    private static string FormatMicros(long micros) =>
        micros >= 1000 ? Invariant($"{micros / 1000.0:N2} ms") : Invariant($"{micros} µs");
}
