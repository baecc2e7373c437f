using Granary.Grains.Hosting.StateFiles;

namespace Granary.Tests.State;

/// <summary>The reminder file of embedded mode: checksummed, previous copy kept, and a damaged one never stops the silo.</summary>
public sealed class FileReminderTableTests
{
    private static readonly GrainId CursorId = StateFileHarness.Cursor();

    /// <summary>Issue 16 item 3: an empty <c>reminders.json</c> stopped the silo from starting (unhandled JsonException).</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task AnEmptyOrGarbageTable_StartsEmpty_AndIsReported(int kind)
    {
        using var harness = new StateFileHarness();
        byte[] content = kind switch
        {
            0 => [],
            1 => "{ not json at all"u8.ToArray(),
            _ => Enumerable.Range(0, 100).Select(i => (byte)(i * 13)).ToArray(),
        };
        await File.WriteAllBytesAsync(harness.RemindersFile, content);

        using var table = harness.Reminders();
        await table.StartAsync();
        Assert.Empty((await table.ReadRows(CursorId)).Reminders);
        var damage = Assert.Single(harness.Damage.Events);
        Assert.Equal(("reminders", StateDamageAction.Rebuilt), (damage.Kind, damage.Action));

        // It works from there on, and its next save is a good file.
        await table.UpsertRow(Entry("redelivery"));
        using var restarted = harness.Reminders();
        await restarted.StartAsync();
        Assert.Single((await restarted.ReadRows(CursorId)).Reminders);
    }

    [Fact]
    public async Task ADamagedTable_FallsBackToItsPreviousCopy()
    {
        using var harness = new StateFileHarness();
        using (var table = harness.Reminders())
        {
            await table.StartAsync();
            await table.UpsertRow(Entry("first"));
            await table.UpsertRow(Entry("second"));
        }
        byte[] bytes = await File.ReadAllBytesAsync(harness.RemindersFile);
        bytes[^1] ^= 0xFF;
        await File.WriteAllBytesAsync(harness.RemindersFile, bytes);

        using var restarted = harness.Reminders();
        await restarted.StartAsync();
        Assert.Equal(["first"], (await restarted.ReadRows(CursorId)).Reminders.Select(r => r.ReminderName));
        Assert.Equal(StateDamageAction.RestoredPrevious, Assert.Single(harness.Damage.Events).Action);
    }

    /// <summary>A table of the earlier format (a bare JSON list) is read after an upgrade.</summary>
    [Fact]
    public async Task ALegacyJsonTable_IsRead()
    {
        using var harness = new StateFileHarness();
        await File.WriteAllTextAsync(harness.RemindersFile,
            $$"""[{"GrainId":"{{CursorId}}","Name":"redelivery","StartAt":"2026-01-01T00:00:00Z","Period":"00:01:00","ETag":"abc"}]""");

        using var table = harness.Reminders();
        await table.StartAsync();
        var row = Assert.Single((await table.ReadRows(CursorId)).Reminders);
        Assert.Equal(("redelivery", "abc", TimeSpan.FromMinutes(1)), (row.ReminderName, row.ETag, row.Period));
        Assert.Empty(harness.Damage.Events);
    }

    private static ReminderEntry Entry(string name) =>
        new() { GrainId = CursorId, ReminderName = name, StartAt = DateTime.UtcNow, Period = TimeSpan.FromMinutes(1) };
}
