using System.Diagnostics;
using System.Globalization;
using Granary.Storage;
using Xunit.Sdk;

namespace Granary.Tests.Storage;

public sealed class CrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SigKill_WhileAppendingUnderAlways_EveryConfirmedRecordSurvives()
    {
        using var dir = new TempDirectory();
        var confirmed = new Dictionary<long, string>();
        var random = new Random(20261126);
        const int kills = 24;
        int totalConfirmed = 0;

        for (int kill = 0; kill < kills; kill++)
        {
            string run = kill.ToString(CultureInfo.InvariantCulture);
            var lines = await RunAndKillAsync(dir.Path, run, appenders: 1 + kill % 8, killAfterConfirms: random.Next(1, 400), random);
            foreach (var line in lines)
            {
                var parts = line.Split(' ');
                if (parts.Length != 6 || parts[5] != "ok") continue; // cut by the kill: never counted as confirmed
                long baseOffset = long.Parse(parts[0], CultureInfo.InvariantCulture);
                int count = int.Parse(parts[1], CultureInfo.InvariantCulture);
                int appender = int.Parse(parts[3], CultureInfo.InvariantCulture);
                int seq = int.Parse(parts[4], CultureInfo.InvariantCulture);
                for (int i = 0; i < count; i++) confirmed[baseOffset + i] = CrashAppender.Payload(parts[2], appender, seq, i);
                totalConfirmed += count;
            }

            // Every record confirmed by any run so far is in the reopened log, with its payload.
            await using var log = PartitionLog.Open(dir.Path, new PartitionLogOptions { SegmentBytes = 64 * 1024, IndexIntervalBytes = 512 });
            var stored = (await LogTestKit.ReadAllAsync(log)).ToDictionary(r => r.Offset, r => r.Payload);
            foreach (var (offset, payload) in confirmed)
            {
                Assert.True(stored.TryGetValue(offset, out var found), $"kill {kill}: confirmed offset {offset} is missing (log end {log.EndOffset})");
                Assert.Equal(payload, found);
            }
        }
        output.WriteLine($"{kills} kills, {totalConfirmed} confirmed records, all present");
        Assert.True(totalConfirmed >= kills, "the child confirmed too little for the test to mean anything");
    }

    private static async Task<List<string>> RunAndKillAsync(string directory, string run, int appenders, int killAfterConfirms, Random random)
    {
        var start = new ProcessStartInfo(SiloProcess.DotNetHost(), [typeof(CrashAppender).Assembly.Location, CrashAppender.Command, directory, appenders.ToString(CultureInfo.InvariantCulture), run])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var child = Process.Start(start) ?? throw new InvalidOperationException("could not start the child");
        var stderr = child.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        try
        {
            while (lines.Count < killAfterConfirms)
            {
                var read = child.StandardOutput.ReadLineAsync();
                if (await Task.WhenAny(read, Task.Delay(deadline - DateTime.UtcNow)) != read)
                    throw new XunitException($"child confirmed only {lines.Count} appends before the deadline: {await StderrSoFar(child, stderr)}");
                var line = await read;
                if (line is null)
                {
                    await child.WaitForExitAsync();
                    throw new XunitException($"child exited early ({child.ExitCode}): {await stderr}");
                }
                lines.Add(line);
            }
            // Kill mid-stream, at a random moment after the last line we waited for.
            if (random.Next(2) == 0) await Task.Delay(random.Next(0, 20));
        }
        finally
        {
            child.Kill(entireProcessTree: true); // SIGKILL: no flush, no dispose, no finally in the child
            await child.WaitForExitAsync();
        }
        // Lines the child wrote before it died are confirmations too.
        while (await child.StandardOutput.ReadLineAsync() is { } rest) lines.Add(rest);
        return lines;
    }

    private static async Task<string> StderrSoFar(Process child, Task<string> stderr)
    {
        child.Kill(entireProcessTree: true);
        await child.WaitForExitAsync();
        return await stderr;
    }
}
