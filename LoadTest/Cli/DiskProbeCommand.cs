using System.CommandLine;
using Granary.LoadTest.Reporting;
using Granary.LoadTest.Scenarios;

namespace Granary.LoadTest.Cli;

/// <summary><c>disk-probe</c>: the raw pwrite+fdatasync latency of a disk, the floor of a serial send (W4).</summary>
internal static class DiskProbeCommand
{
    public static Command Build(TextWriter output)
    {
        var dataDirectory = new Option<string>("--data-dir")
        {
            Description = "Directory on the disk to measure (the silo's data disk); a probe file is created there and removed.",
            DefaultValueFactory = _ => "./data",
        };
        var seconds = new Option<double>("--seconds") { Description = "How long to write, in seconds.", DefaultValueFactory = _ => 5.0 };
        var size = new Option<int>("--size")
        {
            Description = "Bytes of each write (default 200: about a one-message batch of 100 bytes).",
            DefaultValueFactory = _ => 200,
        };
        var json = new Option<string?>("--json") { Description = "Also write the figures as JSON to this file." };
        var command = new Command("disk-probe", "Measure single-thread pwrite+fdatasync latency (p50, p99) on a disk, as the storage engine writes and syncs.")
        {
            dataDirectory, seconds, size, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            int bytes = parse.GetValue(size);
            double duration = parse.GetValue(seconds);
            if (bytes <= 0 || duration <= 0)
            {
                output.WriteLine("error: --size and --seconds must be positive");
                return 2;
            }
            string directory = Directory.CreateDirectory(parse.GetValue(dataDirectory)!).FullName;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var latency = DiskProbe.SyncedWriteLatency(directory, bytes, TimeSpan.FromSeconds(duration));
            var report = RunReport.From("disk-probe", latency.Count, latency.Count * bytes, System.Diagnostics.Stopwatch.GetElapsedTime(started), latency, 0,
                new Dictionary<string, string> { ["data-dir"] = directory, ["size"] = $"{bytes}" });
            report.WriteTable(output);
            if (parse.GetValue(json) is { } file) await File.WriteAllTextAsync(file, report.ToJson(), cancellationToken);
            return 0;
        });
        return command;
    }
}
