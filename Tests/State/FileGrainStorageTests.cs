using Granary.Grains.Cursors;
using Granary.Grains.Hosting;
using Granary.Grains.Hosting.StateFiles;
using Granary.Grains.Topics;

namespace Granary.Tests.State;

/// <summary>Grain state files: framed with a version and a checksum, the previous good copy kept, damage never read as state.</summary>
public sealed class FileGrainStorageTests
{
    [Fact]
    public async Task ReadsBackWhatItWrote_AndKeepsTheReplacedCopyAsPrevious()
    {
        using var harness = new StateFileHarness();
        var cursor = StateFileHarness.Cursor();
        await harness.WriteAsync("cursor", cursor, new CursorState { CommittedOffset = 400 });
        await harness.WriteAsync("cursor", cursor, new CursorState { CommittedOffset = 500, AckedAbove = [502] });

        var read = await harness.ReadAsync<CursorState>("cursor", cursor);
        Assert.Equal(500, read.State.CommittedOffset);
        Assert.Equal([502], read.State.AckedAbove);
        Assert.Equal("2", read.ETag);
        Assert.True(read.RecordExists);
        string path = harness.Storage.PathFor("cursor", cursor);
        Assert.True(File.Exists(StateFile.PreviousOf(path)));
        Assert.Empty(harness.Damage.Events);
    }

    /// <summary>
    /// Issue 16 item 3: one flipped byte moved a group's committed offset from 500 to 1,524. Every byte of the file,
    /// flipped in every bit, now reads as the previous good copy (offset 400: redelivery), never as a later offset.
    /// </summary>
    [Fact]
    public async Task AFlippedByteInACursorState_NeverMovesItsCommittedOffsetForward()
    {
        using var harness = new StateFileHarness();
        var cursor = StateFileHarness.Cursor();
        await harness.WriteAsync("cursor", cursor, new CursorState { CommittedOffset = 400 });
        await harness.WriteAsync("cursor", cursor, new CursorState { CommittedOffset = 500 });
        string path = harness.Storage.PathFor("cursor", cursor);
        byte[] good = await File.ReadAllBytesAsync(path);

        for (int position = 0; position < good.Length; position++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                byte[] damaged = (byte[])good.Clone();
                damaged[position] ^= (byte)(1 << bit);
                await File.WriteAllBytesAsync(path, damaged);
                var read = await harness.ReadAsync<CursorState>("cursor", cursor);
                Assert.True(read.State.CommittedOffset == 400, $"byte {position} bit {bit}: committed {read.State.CommittedOffset}");
            }
        }
        Assert.All(harness.Damage.Events, e => Assert.Equal(StateDamageAction.RestoredPrevious, e.Action));
        Assert.Equal(Math.Min(good.Length * 8, StateDamageLog.Capacity), harness.Damage.Events.Count);
    }

    /// <summary>Issue 16 item 3: garbage cursor state failed every activation (a retriable error, retried forever).</summary>
    [Fact]
    public async Task GarbageCursorState_WithNoGoodCopy_GivesTheCursorAFreshStateMarkedDamaged()
    {
        using var harness = new StateFileHarness();
        var cursor = StateFileHarness.Cursor();
        await harness.WriteAsync("cursor", cursor, new CursorState { CommittedOffset = 500 });
        string path = harness.Storage.PathFor("cursor", cursor);
        await File.WriteAllBytesAsync(path, Enumerable.Range(0, 300).Select(i => (byte)(i * 37 + 11)).ToArray());

        var read = await harness.ReadAsync<CursorState>("cursor", cursor);
        Assert.NotNull(read.State.Damage);
        Assert.Equal(path, read.State.Damage!.File);
        Assert.Null(read.State.CommittedOffset);
        Assert.False(read.RecordExists);

        // The cursor writes its repaired state over the damaged file (the ETag check lets it).
        read.State = new CursorState { CommittedOffset = 0 };
        await harness.Storage.WriteStateAsync("cursor", cursor, read);
        var repaired = await harness.ReadAsync<CursorState>("cursor", cursor);
        Assert.Equal(0, repaired.State.CommittedOffset);
        Assert.Null(repaired.State.Damage);
    }

    [Fact]
    public async Task DamagedTopicState_WithNoGoodCopy_IsCorruptData_NeverAnEmptyTopic()
    {
        using var harness = new StateFileHarness();
        var topic = StateFileHarness.Topic("orders");
        await harness.WriteAsync("topic", topic, new TopicState { Exists = true, Config = new TopicConfig { Partitions = 3 } });
        string path = harness.Storage.PathFor("topic", topic);
        byte[] bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0x40;
        await File.WriteAllBytesAsync(path, bytes);

        var error = await Assert.ThrowsAsync<GranaryException>(() => harness.ReadAsync<TopicState>("topic", topic));
        Assert.Equal(GranaryErrorCode.CorruptData, error.Code);
        var damage = Assert.Single(harness.Damage.Events);
        Assert.Equal(("topic", StateDamageAction.Unrecoverable, path), (damage.Kind, damage.Action, damage.File));
    }

    /// <summary>
    /// A topic's previous copy predates its last change (a delete, or its creation again as a new incarnation), so a
    /// damaged topic state is never silently replaced by it: CorruptData, both files kept for an operator.
    /// </summary>
    [Fact]
    public async Task DamagedTopicState_IsNotReplacedByItsPreviousCopy()
    {
        using var harness = new StateFileHarness();
        var topic = StateFileHarness.Topic("orders");
        await harness.WriteAsync("topic", topic, new TopicState { Exists = true, Config = new TopicConfig { Partitions = 3 } });
        await harness.WriteAsync("topic", topic, new TopicState { Exists = false });
        string path = harness.Storage.PathFor("topic", topic);
        await File.WriteAllBytesAsync(path, (await File.ReadAllBytesAsync(path))[..20]); // cut

        var error = await Assert.ThrowsAsync<GranaryException>(() => harness.ReadAsync<TopicState>("topic", topic));
        Assert.Equal(GranaryErrorCode.CorruptData, error.Code);
        Assert.Equal(StateDamageAction.Unrecoverable, Assert.Single(harness.Damage.Events).Action);
        Assert.True(File.Exists(path) && File.Exists(StateFile.PreviousOf(path)));
    }

    /// <summary>A crash between a write's two renames leaves only the previous copy: the last state written in full, read as such.</summary>
    [Fact]
    public async Task TopicStateWithOnlyItsPreviousCopy_ReadsIt()
    {
        using var harness = new StateFileHarness();
        var topic = StateFileHarness.Topic("orders");
        await harness.WriteAsync("topic", topic, new TopicState { Exists = true, Config = new TopicConfig { Partitions = 3 } });
        await harness.WriteAsync("topic", topic, new TopicState { Exists = true, Config = new TopicConfig { Partitions = 4 } });
        string path = harness.Storage.PathFor("topic", topic);
        File.Delete(path);

        var read = await harness.ReadAsync<TopicState>("topic", topic);
        Assert.Equal(3, read.State.Config.Partitions);
        Assert.Empty(harness.Damage.Events);
    }

    /// <summary>Files written before the frame existed (Orleans' bytes of the envelope, nothing else) are read after an upgrade.</summary>
    [Fact]
    public async Task ALegacyStateFile_IsRead_AndFramedOnItsNextWrite()
    {
        using var harness = new StateFileHarness();
        var cursor = StateFileHarness.Cursor();
        var topic = StateFileHarness.Topic("orders");
        string cursorPath = harness.Storage.PathFor("cursor", cursor), topicPath = harness.Storage.PathFor("topic", topic);
        Directory.CreateDirectory(Path.GetDirectoryName(cursorPath)!);
        Directory.CreateDirectory(Path.GetDirectoryName(topicPath)!);
        // Exactly what the earlier FileGrainStorage wrote.
        await File.WriteAllBytesAsync(cursorPath, StateFileHarness.Serializer.SerializeToArray(
            new StateEnvelope<CursorState> { ETag = "7", State = new CursorState { CommittedOffset = 500, Attempts = { [501] = 2 } } }));
        await File.WriteAllBytesAsync(topicPath, StateFileHarness.Serializer.SerializeToArray(
            new StateEnvelope<TopicState> { ETag = "3", State = new TopicState { Exists = true, Config = new TopicConfig { Partitions = 6 } } }));

        var read = await harness.ReadAsync<CursorState>("cursor", cursor);
        Assert.Equal((500L, "7", 2), (read.State.CommittedOffset!.Value, read.ETag!, read.State.Attempts[501]));
        Assert.Equal(6, (await harness.ReadAsync<TopicState>("topic", topic)).State.Config.Partitions);
        Assert.False(StateFileFormat.LooksFramed(await File.ReadAllBytesAsync(cursorPath)));

        read.State.CommittedOffset = 510;
        await harness.Storage.WriteStateAsync("cursor", cursor, read);
        Assert.True(StateFileFormat.LooksFramed(await File.ReadAllBytesAsync(cursorPath)));
        Assert.Equal((510L, "8"), ((await harness.ReadAsync<CursorState>("cursor", cursor)).State.CommittedOffset!.Value, read.ETag!));
        // The legacy copy became the previous one, and is still readable as such.
        File.Delete(cursorPath);
        Assert.Equal(500, (await harness.ReadAsync<CursorState>("cursor", cursor)).State.CommittedOffset);
        Assert.Empty(harness.Damage.Events);
    }

    /// <summary>A valid file of another grain (copied or swapped in) passes its checksum; the identity inside catches it.</summary>
    [Fact]
    public async Task AFileOfAnotherGrain_IsDamage_NotThatGrainsState()
    {
        using var harness = new StateFileHarness();
        GrainId first = StateFileHarness.Cursor(partition: 0), second = StateFileHarness.Cursor(partition: 1);
        await harness.WriteAsync("cursor", first, new CursorState { CommittedOffset = 10 });
        await harness.WriteAsync("cursor", second, new CursorState { CommittedOffset = 9000 });
        File.Copy(harness.Storage.PathFor("cursor", second), harness.Storage.PathFor("cursor", first), overwrite: true);

        var read = await harness.ReadAsync<CursorState>("cursor", first);
        Assert.Null(read.State.CommittedOffset);
        Assert.Contains("belongs to", read.State.Damage!.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClearingState_RemovesThePreviousCopyToo()
    {
        using var harness = new StateFileHarness();
        var cursor = StateFileHarness.Cursor();
        await harness.WriteAsync("cursor", cursor, new CursorState { CommittedOffset = 1 });
        var state = await harness.WriteAsync("cursor", cursor, new CursorState { CommittedOffset = 2 });
        await harness.Storage.ClearStateAsync("cursor", cursor, state);

        var read = await harness.ReadAsync<CursorState>("cursor", cursor);
        Assert.False(read.RecordExists);
        Assert.Null(read.State.CommittedOffset);
        Assert.Empty(Directory.EnumerateFiles(harness.StateDirectory, "*", SearchOption.AllDirectories));
    }

    /// <summary>A missing current copy next to a good previous one is the crash window between a write's two renames: no damage.</summary>
    [Fact]
    public async Task AMissingCurrentCopy_IsReadFromThePreviousOne_WithoutADamageReport()
    {
        using var harness = new StateFileHarness();
        var cursor = StateFileHarness.Cursor();
        await harness.WriteAsync("cursor", cursor, new CursorState { CommittedOffset = 1 });
        await harness.WriteAsync("cursor", cursor, new CursorState { CommittedOffset = 2 });
        File.Delete(harness.Storage.PathFor("cursor", cursor));

        var read = await harness.ReadAsync<CursorState>("cursor", cursor);
        Assert.Equal(1, read.State.CommittedOffset);
        await harness.Storage.WriteStateAsync("cursor", cursor, read);
        Assert.Equal("2", (await harness.ReadAsync<CursorState>("cursor", cursor)).ETag);
        Assert.Empty(harness.Damage.Events);
    }

    [Fact]
    public async Task AFailedWrite_LeavesNoTempFile()
    {
        using var harness = new StateFileHarness();
        var cursor = StateFileHarness.Cursor();
        await harness.WriteAsync("cursor", cursor, new CursorState { CommittedOffset = 1 });
        string path = harness.Storage.PathFor("cursor", cursor);
        // A non-empty directory where the previous copy should go: the write fails after its temp file is written.
        string blocker = StateFile.PreviousOf(path);
        Directory.CreateDirectory(blocker);
        await File.WriteAllBytesAsync(Path.Combine(blocker, "x"), [1]);

        await Assert.ThrowsAnyAsync<IOException>(() => harness.WriteAsync("cursor", cursor, new CursorState { CommittedOffset = 2 }));
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(path)!, "*.tmp"));
        Assert.Equal(1, (await harness.ReadAsync<CursorState>("cursor", cursor)).State.CommittedOffset);
    }
}
