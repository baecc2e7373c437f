using Granary.Grains.ConsumerGroups;
using Granary.Grains.Cursors;
using Granary.Grains.Hosting.StateFiles;
using Granary.Grains.Topics;

namespace Granary.Tests.State;

/// <summary>
/// Issue 16, "beyond the list": every kind of state file (cursor, topic, group, topic registry, reminders), damaged in
/// every byte (two flips each), cut at many lengths, deleted, swapped with another file of the same directory, with and
/// without a good previous copy. Every read must give the current version, the previous one, or a reported damage (a
/// cursor marked damaged, a registry rebuilt, reminders empty, a topic or group answering CorruptData): never another
/// state (a cursor never moves forward), never an unexpected exception. A damaged topic state is always reported, never
/// replaced by its previous copy.
/// </summary>
public sealed class StateFileFuzzTests
{
    /// <summary>What a read of a damaged file gave.</summary>
    private enum Outcome { Current, Previous, Damaged, Absent }

    /// <summary>One kind of state file: how to write its two versions, where its files are, and how to classify a read.</summary>
    private sealed record Kind(string Name, Func<StateFileHarness, int, Task> WriteVersion, Func<StateFileHarness, string> PathOf,
        Func<StateFileHarness, string> OtherPathOf, Func<StateFileHarness, Task<Outcome>> Read);

    private static readonly GrainId CursorId = StateFileHarness.Cursor(partition: 0), OtherCursorId = StateFileHarness.Cursor(partition: 1);
    private static readonly GrainId TopicId = StateFileHarness.Topic("orders"), OtherTopicId = StateFileHarness.Topic("audit");
    private static readonly GrainId GroupId = StateFileHarness.Group("orders", "billing"), OtherGroupId = StateFileHarness.Group("orders", "audit");

    private static readonly Dictionary<string, Kind> Kinds = new Kind[]
    {
        new("cursor",
            (h, v) => h.WriteAsync("cursor", CursorId, new CursorState { CommittedOffset = v == 1 ? 400 : 500, AckedAbove = [v == 1 ? 402 : 503], Attempts = { [v == 1 ? 401 : 501] = v } }),
            h => h.Storage.PathFor("cursor", CursorId), h => h.Storage.PathFor("cursor", OtherCursorId),
            async h =>
            {
                var read = await h.ReadAsync<CursorState>("cursor", CursorId);
                if (read.State.Damage is not null) return Outcome.Damaged;
                return read.State.CommittedOffset switch
                {
                    500 when read.State.AckedAbove.SequenceEqual([503]) && read.State.Attempts[501] == 2 => Outcome.Current,
                    400 when read.State.AckedAbove.SequenceEqual([402]) && read.State.Attempts[401] == 1 => Outcome.Previous,
                    null when !read.RecordExists => Outcome.Absent,
                    var other => throw new Xunit.Sdk.XunitException($"cursor read as committed {other}"),
                };
            }),
        new("topic",
            (h, v) => h.WriteAsync("topic", TopicId, new TopicState { Exists = true, Config = new TopicConfig { Partitions = v + 2 }, Groups = new(StringComparer.Ordinal) { "g" + v } }),
            h => h.Storage.PathFor("topic", TopicId), h => h.Storage.PathFor("topic", OtherTopicId),
            async h =>
            {
                try
                {
                    var read = await h.ReadAsync<TopicState>("topic", TopicId);
                    return Classify(read.RecordExists, read.State.Exists, read.State.Config.Partitions - 2, read.State.Groups.SingleOrDefault());
                }
                catch (GranaryException e) when (e.Code == GranaryErrorCode.CorruptData) { return Outcome.Damaged; }
            }),
        new("group",
            (h, v) => h.WriteAsync("group", GroupId, new ConsumerGroupState { Exists = true, Partitions = v, StartOffsets = { [0] = 10 * v } }),
            h => h.Storage.PathFor("group", GroupId), h => h.Storage.PathFor("group", OtherGroupId),
            async h =>
            {
                try
                {
                    var read = await h.ReadAsync<ConsumerGroupState>("group", GroupId);
                    int start = read.State.StartOffsets.TryGetValue(0, out long s) ? (int)s / 10 : -1;
                    return Classify(read.RecordExists, read.State.Exists, read.State.Partitions, start == read.State.Partitions ? "g" + start : "mismatch");
                }
                catch (GranaryException e) when (e.Code == GranaryErrorCode.CorruptData) { return Outcome.Damaged; }
            }),
        new("topics",
            (h, v) => h.WriteAsync("topics", StateFileHarness.Registry, new TopicRegistryState { Topics = new(StringComparer.Ordinal) { "a", v == 1 ? "b" : "c" } }),
            h => h.Storage.PathFor("topics", StateFileHarness.Registry), h => h.Storage.PathFor("topic", TopicId),
            async h =>
            {
                var read = await h.ReadAsync<TopicRegistryState>("topics", StateFileHarness.Registry);
                if (read.State.Damage is not null) return Outcome.Damaged;
                if (!read.RecordExists) return Outcome.Absent;
                return string.Join(",", read.State.Topics) switch
                {
                    "a,c" => Outcome.Current,
                    "a,b" => Outcome.Previous,
                    var other => throw new Xunit.Sdk.XunitException($"registry read as {other}"),
                };
            }),
        new("reminders",
            async (h, v) =>
            {
                using var table = h.Reminders();
                await table.StartAsync();
                await table.UpsertRow(new ReminderEntry { GrainId = CursorId, ReminderName = "r" + v, StartAt = DateTime.UnixEpoch, Period = TimeSpan.FromMinutes(v) });
            },
            h => h.RemindersFile, h => h.Storage.PathFor("cursor", CursorId),
            async h =>
            {
                long before = h.Damage.Reported;
                using var table = h.Reminders();
                await table.StartAsync();
                var names = string.Join(",", (await table.ReadRows(CursorId)).Reminders.Select(r => r.ReminderName).Order());
                if (h.Damage.Reported > before && h.Damage.Events[^1].Action == StateDamageAction.Rebuilt)
                    return names == "" ? Outcome.Damaged : throw new Xunit.Sdk.XunitException($"rebuilt reminders hold {names}");
                return names switch
                {
                    "r1,r2" => Outcome.Current,
                    "r1" => Outcome.Previous,
                    "" => Outcome.Absent,
                    _ => throw new Xunit.Sdk.XunitException($"reminders read as {names}"),
                };
            }),
    }.ToDictionary(k => k.Name);

    public static TheoryData<string, bool> Cases => new(Kinds.Keys.SelectMany(k => new[] { (k, true), (k, false) }));

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task EveryDamage_ReadsAsCurrentPreviousOrReportedDamage_NeverAnythingElse(string kindName, bool withPrevious)
    {
        var kind = Kinds[kindName];
        using var harness = new StateFileHarness();
        // The other file of the same directory, for the swap: another grain's state (or, for reminders, a cursor's).
        await WriteOtherAsync(harness, kindName);
        await kind.WriteVersion(harness, 1);
        await kind.WriteVersion(harness, 2);
        string path = kind.PathOf(harness), previous = StateFile.PreviousOf(path);
        if (!withPrevious) File.Delete(previous);
        byte[] good = await File.ReadAllBytesAsync(path);
        byte[]? goodPrevious = withPrevious ? await File.ReadAllBytesAsync(previous) : null;
        // A topic never falls back to its previous copy on damage (it may predate a delete or a new incarnation), only
        // when its current file is missing (a crash between a write's renames).
        var expectedOnDamage = withPrevious && kindName != "topic" ? Outcome.Previous : Outcome.Damaged;
        Assert.Equal(Outcome.Current, await kind.Read(harness));

        async Task CheckAsync(string what, byte[]? content, Outcome expected, byte[]? previousContent = null)
        {
            if (content is null) File.Delete(path);
            else await File.WriteAllBytesAsync(path, content);
            if (goodPrevious is not null) await File.WriteAllBytesAsync(previous, previousContent ?? goodPrevious);
            var outcome = await kind.Read(harness);
            Assert.True(outcome == expected, $"{kindName} ({(withPrevious ? "with" : "without")} previous copy), {what}: {outcome}, expected {expected}");
        }

        for (int position = 0; position < good.Length; position++)
        {
            foreach (byte mask in (byte[])[0xFF, 0x01])
            {
                byte[] flipped = (byte[])good.Clone();
                flipped[position] ^= mask;
                await CheckAsync($"byte {position} ^ {mask:x2}", flipped, expectedOnDamage);
            }
        }
        foreach (int length in new[] { 0, 1, 3, 4, 8, 12, 15, 16, good.Length / 2, good.Length - 5, good.Length - 4, good.Length - 1 }.Where(l => l >= 0 && l < good.Length).Distinct())
            await CheckAsync($"cut to {length} bytes", good[..length], expectedOnDamage);
        await CheckAsync("garbage", Enumerable.Range(0, good.Length).Select(i => (byte)(i * 31 + 7)).ToArray(), expectedOnDamage);
        await CheckAsync("swapped with another file", await File.ReadAllBytesAsync(kind.OtherPathOf(harness)), expectedOnDamage);
        await CheckAsync("deleted", null, withPrevious ? Outcome.Previous : Outcome.Absent);
        if (goodPrevious is not null)
        {
            byte[] flippedPrevious = (byte[])goodPrevious.Clone();
            flippedPrevious[goodPrevious.Length / 2] ^= 0x10;
            byte[] flipped = (byte[])good.Clone();
            flipped[good.Length / 3] ^= 0x10;
            await CheckAsync("both copies flipped", flipped, Outcome.Damaged, flippedPrevious);
            await CheckAsync("current deleted, previous flipped", null, Outcome.Damaged, flippedPrevious);
        }
        // Intact again: the current version.
        await CheckAsync("intact", good, Outcome.Current);
    }

    private static Outcome Classify(bool recordExists, bool exists, int version, string? marker)
    {
        if (!recordExists) return Outcome.Absent;
        if (exists && marker == "g" + version) return version switch
        {
            2 => Outcome.Current,
            1 => Outcome.Previous,
            _ => throw new Xunit.Sdk.XunitException($"read as version {version}"),
        };
        throw new Xunit.Sdk.XunitException($"read as exists={exists}, version {version}, marker {marker}");
    }

    private static async Task WriteOtherAsync(StateFileHarness harness, string kind)
    {
        switch (kind)
        {
            case "cursor" or "reminders":
                await harness.WriteAsync("cursor", OtherCursorId, new CursorState { CommittedOffset = 9000 });
                await harness.WriteAsync("cursor", CursorId, new CursorState { CommittedOffset = 9001 });
                if (kind == "cursor") File.Delete(StateFile.PreviousOf(harness.Storage.PathFor("cursor", CursorId)));
                break;
            case "topic" or "topics":
                await harness.WriteAsync("topic", OtherTopicId, new TopicState { Exists = true, Config = new TopicConfig { Partitions = 9 } });
                await harness.WriteAsync("topic", TopicId, new TopicState { Exists = true, Config = new TopicConfig { Partitions = 9 } });
                if (kind == "topic") File.Delete(StateFile.PreviousOf(harness.Storage.PathFor("topic", TopicId)));
                break;
            case "group":
                await harness.WriteAsync("group", OtherGroupId, new ConsumerGroupState { Exists = true, Partitions = 9 });
                break;
        }
    }
}
