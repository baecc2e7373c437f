using Granary.Records;
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
internal sealed class LogBenchmark(string dataDirectory, TimeSpan caseDuration, IReadOnlyCollection<string> onlyCases, TextWriter output)
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
                        if (onlyCases.Count > 0 && !onlyCases.Contains(Invariant($"{recordBytes}x{batchRecords}x{appenders}"))) continue;
                        var result = await RunCaseAsync(root, recordBytes, batchRecords, appenders, cancellationToken);
                        results.Add(result);
                        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  {recordBytes,5} B x {batchRecords,4} x {appenders} appenders: {result.RecordsPerSecond,12:N0} records/s"));
                    }
            PrintTable(results);

            // The disk's own limits drift on shared storage (we saw synced bandwidth halve within one run), so each
            // target compares the engine with the raw disk in back-to-back pairs, and reports the median pair.
            output.WriteLine();
            output.WriteLine("| paired with the raw disk (3 rounds, raw then engine) | raw | engine | engine / raw (median) |");
            output.WriteLine("|---|---:|---:|---:|");
            double bandwidthShare = await PairAsync(
                Invariant($"sequential write+fdatasync of {BulkWriteBytes:N0} B vs 1 KB x 1000, 1 appender (MB/s)"),
                () => DiskProbe.SequentialSyncedBandwidth(root, BulkWriteBytes, caseDuration) / 1e6,
                async () => (await RunCaseAsync(root, 1024, 1000, 1, cancellationToken)).MegabytesPerSecond);
            double groupCommit = await PairAsync(
                Invariant($"single-thread write+fdatasync of {SingleWriteBytes} B vs 8 appenders x single 100 B records (per s)"),
                () => DiskProbe.SyncedWriteRate(root, SingleWriteBytes, caseDuration),
                async () => (await RunCaseAsync(root, 100, 1, 8, cancellationToken)).RecordsPerSecond);
            double readBytesPerSecond = await MeasureReadAsync(root, cancellationToken);

            output.WriteLine();
            output.WriteLine("| target | measured | required | result |");
            output.WriteLine("|---|---:|---:|---|");
            Check("1 KB x 1000 under Always: share of raw synced bandwidth", bandwidthShare, 0.75, "P0");
            Check("8 appenders x single 100 B records: multiple of raw fdatasync rate", groupCommit, 4.0, "0.0x");
            Check("read back from the page cache (GB/s)", readBytesPerSecond / 1e9, 1.0, "0.00");
            return 0;

        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    // The engine's write sizes for the two raw comparisons: one 1000 x 1 KB batch, one single 100 B record batch.
    private static readonly int BulkWriteBytes = EncodeBatch(1024, 1000).Length;
    private static readonly int SingleWriteBytes = EncodeBatch(100, 1).Length;

    private async Task<double> PairAsync(string name, Func<double> raw, Func<Task<double>> engine)
    {
        var raws = new List<double>();
        var engines = new List<double>();
        var ratios = new List<double>();
        for (int round = 0; round < 3; round++)
        {
            raws.Add(raw());
            engines.Add(await engine());
            ratios.Add(engines[^1] / raws[^1]);
        }
        double median = ratios.Order().ElementAt(1);
        output.WriteLine(Invariant($"| {name} | {string.Join(" / ", raws.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))} | {string.Join(" / ", engines.Select(e => e.ToString("N0", CultureInfo.InvariantCulture)))} | {median:0.00} |"));
        return median;
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

    /// <summary>
    /// Every record gets its own random payload: storage that compresses or deduplicates (virtual disks may) would
    /// otherwise make repeated payloads look faster than the random bytes of the raw probe.
    /// </summary>
    private static byte[] EncodeBatch(int recordBytes, int batchRecords)
    {
        var random = new Random(recordBytes * 31 + batchRecords);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return RecordBatchBuilder.Encode(Enumerable.Range(0, batchRecords).Select(_ =>
        {
            var payload = new byte[recordBytes];
            random.NextBytes(payload);
            return new LogRecord(payload) { TimestampMs = now };
        }));
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
