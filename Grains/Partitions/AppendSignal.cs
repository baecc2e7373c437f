namespace Granary.Grains.Partitions;

/// <summary>
/// Wakes long-polling fetches when more records become visible (confirmed, or committed when replicated). A fetch that
/// found nothing new waits on the current signal up to its max wait; <see cref="Signal"/> completes that signal and
/// starts the next, so every fetch waiting now wakes and a later fetch waits for the next change. Not thread-safe: the
/// partition grain's turns serialise every use.
/// </summary>
internal sealed class AppendSignal(TimeProvider time)
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes when the next <see cref="Signal"/> comes (true) or <paramref name="maxWait"/> passes on the clock
    /// (false). Never throws: a timeout is an empty fetch, not an error.
    /// </summary>
    public async Task<bool> WaitAsync(TimeSpan maxWait)
    {
        var next = _next.Task;
        if (maxWait <= TimeSpan.Zero) return next.IsCompleted;
        // Continues on the caller's context (the grain's scheduler), which the fetch goes on using.
        await next.WaitAsync(maxWait, time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        return next.IsCompleted;
    }

    /// <summary>Wakes every fetch waiting now; fetches that start waiting after this wait for the next signal.</summary>
    public void Signal()
    {
        var waiting = _next;
        _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        waiting.TrySetResult();
    }
}
