using Granary.Storage;

namespace Granary.Tests.Storage;

/// <summary>The message-id dedup window: lookups within it, eviction past it.</summary>
public sealed class MessageIdWindowTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private const long MinuteMs = 60_000;

    [Fact]
    public void TryGet_WithinTheWindow_FindsTheStoredCopy()
    {
        var ids = new MessageIdWindow(Window);
        ids.Add(1, offset: 42, timestampMs: 1_000);

        Assert.True(ids.TryGet(1, 1_000 + MinuteMs, out long offset));
        Assert.Equal(42, offset);
        Assert.False(ids.TryGet(2, 1_000, out _));
    }

    [Fact]
    public void TryGet_PastTheWindow_FindsNothing_EvenBeforeEviction()
    {
        var ids = new MessageIdWindow(Window);
        ids.Add(1, 42, 1_000);

        Assert.False(ids.TryGet(1, 1_001 + MinuteMs, out long offset));
        Assert.Equal(-1, offset);
        Assert.Equal(1, ids.Count);
    }

    [Fact]
    public void Evict_DropsOnlyEntriesOlderThanTheWindow()
    {
        var ids = new MessageIdWindow(Window);
        ids.Add(1, 0, 1_000);
        ids.Add(2, 1, 2_000);

        ids.Evict(1_500 + MinuteMs);

        Assert.Equal(1, ids.Count);
        Assert.True(ids.TryGet(2, 1_500 + MinuteMs, out _));
    }

    [Fact]
    public void Evict_KeepsAYoungerCopyStoredAgainAfterTheWindow()
    {
        var ids = new MessageIdWindow(Window);
        ids.Add(1, 0, 1_000);
        ids.Add(1, 9, 1_000 + 2 * MinuteMs);

        ids.Evict(1_500 + 2 * MinuteMs);

        Assert.True(ids.TryGet(1, 1_500 + 2 * MinuteMs, out long offset));
        Assert.Equal(9, offset);
    }
}
