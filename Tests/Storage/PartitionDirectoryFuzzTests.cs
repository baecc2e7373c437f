using Granary.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Granary.Tests.Storage;

/// <summary>
/// Issue 16, "beyond the list": damages a recovered partition directory in every way a disk or an operator can
/// (flip bytes of each file kind, cut files, delete files, swap two segments), reopens it and checks that nothing is
/// silently skipped (an offset that cannot be read lies in a gap the log reports, or a read error names it), nothing is
/// served wrongly (every record served is the original at its offset) and nothing throws out of open/recovery.
/// Deterministic: every case comes from a fixed seed.
/// </summary>
public sealed class PartitionDirectoryFuzzTests
{
    private static readonly Lazy<(TempDirectory Directory, Dictionary<long, string> Written)> Pristine = new(() =>
    {
        var dir = new TempDirectory();
        var written = DamageKit.WriteLogAsync(dir.Path, DamageKit.SmallSegments()).GetAwaiter().GetResult();
        var epochs = LeaderEpochs.Load(dir.Path, NullLogger.Instance);
        epochs.Begin(1, 0);
        epochs.Begin(2, 100);
        new ProducerStateSnapshot(written.Count, [new ProducerStateEntry(7, 41, 1_700_000_000_000, [new ProducerBatchInfo(40, 2, 300, 1_700_000_000_000)])]).Write(dir.Path);
        return (dir, written);
    });

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var kind in (string[])["first.log", "middle.log", "last.log", "middle.index", "last.index", "middle.timeindex", "checkpoint", "leader-epochs", "producer-state"])
        {
            foreach (var damage in (string[])["flip", "cut", "delete"])
            {
                for (int seed = 1; seed <= (damage == "flip" ? 6 : 2); seed++) data.Add($"{damage}:{kind}", seed);
            }
        }
        for (int seed = 1; seed <= 3; seed++) data.Add("swap:segments", seed);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Reopen_DamagedDirectory_ReportsEveryLossAndServesOnlyOriginals(string damage, int seed)
    {
        var (pristine, original) = Pristine.Value;
        var written = new Dictionary<long, string>(original);
        using var dir = new TempDirectory();
        foreach (var file in Directory.GetFiles(pristine.Path)) File.Copy(file, Path.Combine(dir.Path, Path.GetFileName(file)));
        var random = new Random(seed * 7919 + damage.Sum(c => c)); // string.GetHashCode differs per process
        Damage(dir.Path, damage, random);

        for (int open = 0; open < 2; open++) // the second open sees what the first one repaired or recorded
        {
            var reported = new List<LogGap>();
            var options = DamageKit.SmallSegments();
            options.GapReported = reported.Add;
            await using var log = PartitionLog.Open(dir.Path, options);
            _ = LeaderEpochs.Load(dir.Path, NullLogger.Instance);
            _ = ProducerStateSnapshot.TryRead(dir.Path, out _);

            var read = await DamageKit.ReadAcceptingLossAsync(log);

            Assert.True(log.EndOffset >= original.Count, $"{damage}/{seed}: end {log.EndOffset} below {original.Count}: offsets would be given out again");
            foreach (var (offset, payload) in written)
            {
                if (read.Records.TryGetValue(offset, out var served))
                {
                    Assert.True(payload == served, $"{damage}/{seed}: offset {offset} served '{served}' instead of '{payload}'");
                    continue;
                }
                bool inGap = log.Gaps.Any(g => g.Contains(offset));
                bool readReported = read.Reported.Any(r => offset >= r.From && offset < r.To);
                Assert.True(inGap || readReported, $"{damage}/{seed}: offset {offset} was skipped silently (start {log.StartOffset}, end {log.EndOffset}, gaps {string.Join(", ", log.Gaps.Select(g => $"[{g.StartOffset}, {g.EndOffset})"))})");
            }
            Assert.All(reported, g => Assert.Contains(g, log.Gaps));

            // Still writable, and what it writes reads back.
            var appended = await log.AppendAsync(LogTestKit.Batch($"after-{open}"));
            using var back = await log.ReadAsync(appended.BaseOffset, 1024);
            Assert.Equal($"after-{open}", Encoding.UTF8.GetString(back.GetBatches().Single().Single().Payload.Span));
            written[appended.BaseOffset] = $"after-{open}";
        }
    }

    private static void Damage(string directory, string damage, Random random)
    {
        var parts = damage.Split(':');
        if (parts[0] == "swap")
        {
            var logs = DamageKit.SegmentBases(directory).Select(b => LogFileNames.LogFile(directory, b)).ToArray();
            int a = random.Next(logs.Length), b = (a + 1 + random.Next(logs.Length - 1)) % logs.Length;
            var bytesA = File.ReadAllBytes(logs[a]);
            File.WriteAllBytes(logs[a], File.ReadAllBytes(logs[b]));
            File.WriteAllBytes(logs[b], bytesA);
            return;
        }
        string file = Target(directory, parts[1]);
        switch (parts[0])
        {
            case "flip":
                var bytes = File.ReadAllBytes(file);
                int flips = 1 + random.Next(3);
                for (int i = 0; i < flips; i++) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                File.WriteAllBytes(file, bytes);
                break;
            case "cut":
                long length = new FileInfo(file).Length;
                using (var stream = new FileStream(file, FileMode.Open)) stream.SetLength(random.NextInt64(length));
                break;
            case "delete":
                File.Delete(file);
                break;
        }
    }

    private static string Target(string directory, string kind)
    {
        var bases = DamageKit.SegmentBases(directory);
        return kind switch
        {
            "first.log" => LogFileNames.LogFile(directory, bases[0]),
            "middle.log" => LogFileNames.LogFile(directory, bases[bases.Length / 2]),
            "last.log" => LogFileNames.LogFile(directory, bases[^1]),
            "middle.index" => LogFileNames.OffsetIndexFile(directory, bases[bases.Length / 2]),
            "last.index" => LogFileNames.OffsetIndexFile(directory, bases[^1]),
            "middle.timeindex" => LogFileNames.TimeIndexFile(directory, bases[bases.Length / 2]),
            "checkpoint" => LogFileNames.CheckpointFile(directory),
            "leader-epochs" => Path.Combine(directory, LogFileNames.LeaderEpochs),
            "producer-state" => ProducerStateSnapshot.PathIn(directory),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
    }
}
