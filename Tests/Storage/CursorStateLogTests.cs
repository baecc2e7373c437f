using Granary.Storage;

namespace Granary.Tests.Storage;

/// <summary>
/// The cursor state log: a snapshot frame then delta frames, each length- and CRC32C-framed. Appends survive a reopen,
/// a torn last frame is cut off, a damaged frame in the middle is reported (and never moves the cursor past what the
/// good frames say), a damaged snapshot says so, and compaction keeps the state.
/// </summary>
public sealed class CursorStateLogTests : IDisposable
{
    private const string Key = "orders/billing/3";
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string FilePath => CursorStateLog.PathFor(_dir.Path, Key);

    private static CursorStateSnapshot Snapshot(long committed = 10) => new()
    {
        Committed = committed,
        Acked = [(12, 15), (20, 21)],
        Attempts = new() { [10] = 2, [11] = 1, [30] = 7 },
        RetryAt = new() { [11] = 1_780_000_000_123 },
        Expired = 4,
        DeadLettered = 3,
        Skipped = 2,
    };

    private static CursorStateDelta Delta(long committed, params CursorOffsetStatus[] offsets) =>
        new() { Committed = committed, Expired = 5, DeadLettered = 3, Skipped = 2, Offsets = [.. offsets] };

    private static string Describe(CursorStateSnapshot s) =>
        $"{s.Committed}|{string.Join(",", s.Acked)}|{string.Join(",", s.Attempts.OrderBy(a => a.Key))}|{string.Join(",", s.RetryAt.OrderBy(a => a.Key))}|{s.Expired}/{s.DeadLettered}/{s.Skipped}";

    private static string Describe(CursorStateDelta d) =>
        $"{d.Committed}|{d.Expired}/{d.DeadLettered}/{d.Skipped}|{string.Join(",", d.Offsets)}";

    [Fact]
    public void Codec_RoundTripsSnapshotsAndDeltas()
    {
        var snapshot = Snapshot();
        byte[] frame = CursorStateCodec.EncodeSnapshot(Key, snapshot);
        var decoded = CursorStateCodec.DecodeSnapshot(frame.AsSpan(CursorStateCodec.HeaderBytes), out string key, out string? problem);
        Assert.Null(problem);
        Assert.Equal(Key, key);
        Assert.Equal(Describe(snapshot), Describe(decoded!));

        var delta = Delta(13, new CursorOffsetStatus(13, true, 0, null), new CursorOffsetStatus(16, false, 3, null), new CursorOffsetStatus(17, false, 1, 1_780_000_000_999), new CursorOffsetStatus(40, false, 0, null));
        var decodedDelta = CursorStateCodec.DecodeDelta(CursorStateCodec.EncodeDelta(delta).AsSpan(CursorStateCodec.HeaderBytes), out problem);
        Assert.Null(problem);
        Assert.Equal(Describe(delta), Describe(decodedDelta!));
    }

    [Fact]
    public void SavesSurviveAReopen_FirstASnapshot_ThenDeltasAppended()
    {
        using (var log = CursorStateLog.Open(FilePath, Key))
        {
            Assert.Null(log.Loaded.Snapshot);
            var first = log.Prepare(Delta(10), () => Snapshot());
            Assert.True(first.IsSnapshot); // no file yet: a snapshot whatever the delta says
            log.Write(first);
            for (int i = 0; i < 3; i++)
            {
                var write = log.Prepare(Delta(10 + i, new CursorOffsetStatus(100 + i, true, 0, null)), () => throw new InvalidOperationException("no snapshot expected"));
                Assert.False(write.IsSnapshot);
                long before = log.Length;
                log.Write(write);
                Assert.Equal(before + write.Frame.Length, new FileInfo(FilePath).Length); // appended, not rewritten
            }
        }
        using var reopened = CursorStateLog.Open(FilePath, Key);
        Assert.Equal(Describe(Snapshot()), Describe(reopened.Loaded.Snapshot!));
        Assert.Equal([100L, 101L, 102L], reopened.Loaded.Deltas.Select(d => d.Offsets.Single().Offset));
        Assert.Equal(0, reopened.Loaded.TornTailBytes);
    }

    [Theory]
    [InlineData(3)]   // header cut short
    [InlineData(12)]  // payload cut short
    [InlineData(-1)]  // whole length, but the bytes never reached the disk (zeros): checksum fails
    public void TornLastFrame_IsCutOff_AndAppendsContinueAfterTheGoodFrames(int keep)
    {
        WriteSnapshotAndDeltas(2);
        byte[] frame = CursorStateCodec.EncodeDelta(Delta(10, new CursorOffsetStatus(200, true, 0, null)));
        byte[] torn = keep < 0 ? new byte[frame.Length] : frame[..keep];
        if (keep < 0) frame.AsSpan(0, 4).CopyTo(torn); // the length made it, the rest did not
        long good = new FileInfo(FilePath).Length;
        using (var stream = new FileStream(FilePath, FileMode.Append)) stream.Write(torn);

        using (var log = CursorStateLog.Open(FilePath, Key))
        {
            Assert.Equal(torn.Length, log.Loaded.TornTailBytes);
            Assert.Null(log.Loaded.DamagedFrame);
            Assert.Equal(2, log.Loaded.Deltas.Count);
            Assert.Equal(good, new FileInfo(FilePath).Length);
            log.Write(log.Prepare(Delta(10, new CursorOffsetStatus(300, true, 0, null)), () => Snapshot()));
        }
        using var again = CursorStateLog.Open(FilePath, Key);
        Assert.Equal([100L, 101L, 300L], again.Loaded.Deltas.Select(d => d.Offsets.Single().Offset));
    }

    [Fact]
    public void DamagedFrameInTheMiddle_IsReported_StateStopsBeforeIt_AndTheNextSaveIsASnapshot()
    {
        var frames = WriteSnapshotAndDeltas(3);
        byte[] bytes = File.ReadAllBytes(FilePath);
        int second = frames[0] + frames[1]; // snapshot, first delta, then the damaged one
        bytes[second + CursorStateCodec.HeaderBytes + 2] ^= 0x40;
        File.WriteAllBytes(FilePath, bytes);

        using (var log = CursorStateLog.Open(FilePath, Key))
        {
            Assert.Contains("checksum", log.Loaded.DamagedFrame);
            // Only the frames before the damage: the later delta (which moved the committed offset further) is not used.
            var delta = Assert.Single(log.Loaded.Deltas);
            Assert.Equal(10, delta.Committed);
            Assert.True(File.Exists(log.Loaded.DamagedCopy));
            Assert.Equal(bytes, File.ReadAllBytes(log.Loaded.DamagedCopy!));
            Assert.Equal(second, new FileInfo(FilePath).Length);
            var write = log.Prepare(Delta(11), () => Snapshot(11));
            Assert.True(write.IsSnapshot);
            log.Write(write);
        }
        using var again = CursorStateLog.Open(FilePath, Key);
        Assert.Null(again.Loaded.Damage);
        Assert.Null(again.Loaded.DamagedFrame);
        Assert.Equal(11, again.Loaded.Snapshot!.Committed);
        Assert.Empty(again.Loaded.Deltas);
    }

    [Fact]
    public void DamagedSnapshot_LeavesNoState_AndSaysWhy()
    {
        WriteSnapshotAndDeltas(1);
        byte[] bytes = File.ReadAllBytes(FilePath);
        bytes[CursorStateCodec.HeaderBytes + 5] ^= 0x01;
        File.WriteAllBytes(FilePath, bytes);
        using var log = CursorStateLog.Open(FilePath, Key);
        Assert.Null(log.Loaded.Snapshot);
        Assert.Contains("checksum", log.Loaded.Damage);
        Assert.True(log.Prepare(Delta(10), () => Snapshot()).IsSnapshot);
    }

    [Fact]
    public void AnotherCursorsFile_IsDamage()
    {
        WriteSnapshotAndDeltas(0);
        string other = CursorStateLog.PathFor(_dir.Path, "orders/other/3");
        File.Copy(FilePath, other);
        using var log = CursorStateLog.Open(other, "orders/other/3");
        Assert.Null(log.Loaded.Snapshot);
        Assert.Contains("belongs to cursor 'orders/billing/3'", log.Loaded.Damage);
    }

    [Fact]
    public void Compaction_ReplacesTheFileWithOneSnapshot_AndKeepsTheState()
    {
        var live = Snapshot();
        int deltas = 0;
        using (var log = CursorStateLog.Open(FilePath, Key))
        {
            log.Write(log.Prepare(null, () => live));
            while (true)
            {
                long offset = 1000 + deltas;
                live.Attempts[offset] = 1;
                var write = log.Prepare(Delta(10, new CursorOffsetStatus(offset, false, 1, null)), () => live);
                long before = log.Length;
                log.Write(write);
                if (write.IsSnapshot)
                {
                    // Past max(64 KiB, 4 x snapshot): the file became the one snapshot.
                    Assert.True(before > CursorStateLog.MinCompactBytes);
                    Assert.Equal(write.Frame.Length, log.Length);
                    break;
                }
                deltas++;
            }
        }
        Assert.True(deltas > 1000, $"{deltas} deltas");
        using var reopened = CursorStateLog.Open(FilePath, Key);
        Assert.Empty(reopened.Loaded.Deltas);
        Assert.Equal(Describe(live), Describe(reopened.Loaded.Snapshot!));
    }

    [Fact]
    public void PathFor_AnyKey_IsOneSafeFileName()
    {
        string path = CursorStateLog.PathFor(_dir.Path, "../../etc/passwd\0/g:\\x/1");
        Assert.Equal(_dir.Path, Path.GetDirectoryName(path));
        Assert.NotEqual(path, CursorStateLog.PathFor(_dir.Path, "../../etc/passwd\0/g:\\x/2"));
    }

    /// <summary>A snapshot (committed 10) and <paramref name="deltas"/> deltas acking 100, 101, ... (committed 10, 11, ...); the frame sizes.</summary>
    private List<int> WriteSnapshotAndDeltas(int deltas)
    {
        var sizes = new List<int>();
        using var log = CursorStateLog.Open(FilePath, Key);
        var first = log.Prepare(null, () => Snapshot());
        log.Write(first);
        sizes.Add(first.Frame.Length);
        for (int i = 0; i < deltas; i++)
        {
            var write = log.Prepare(Delta(10 + i, new CursorOffsetStatus(100 + i, true, 0, null)), () => Snapshot());
            log.Write(write);
            sizes.Add(write.Frame.Length);
        }
        return sizes;
    }
}
