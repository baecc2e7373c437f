namespace Granary.Tests.Fixtures;

/// <summary>Waiting on conditions with generous deadlines, never on fixed sleeps.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Polls <paramref name="condition"/> until it holds, failing after the timeout.</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met before the deadline");
            await Task.Delay(10);
        }
    }

    /// <summary>Polls an asynchronous <paramref name="condition"/> (a broker query) until it holds, failing after the timeout.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met before the deadline");
            await Task.Delay(20);
        }
    }

    /// <summary>Reads messages until <paramref name="done"/> says enough, failing after the timeout.</summary>
    public static async Task<List<T>> CollectAsync<T>(IAsyncEnumerable<T> source, Func<List<T>, bool> done, TimeSpan? timeout = null, Func<T, Task>? onEach = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? DefaultTimeout);
        var items = new List<T>();
        if (done(items)) return items;
        try
        {
            await foreach (var item in source.WithCancellation(cancel.Token))
            {
                items.Add(item);
                if (onEach is not null) await onEach(item);
                if (done(items)) return items;
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Assert.Fail($"only {items.Count} items arrived before the deadline");
        }
        Assert.Fail($"the stream ended after {items.Count} items");
        return items;
    }
}
