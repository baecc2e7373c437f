namespace Granary.Grains.Partitions;

/// <summary>
/// Wakes long-polling fetches when more records become visible (confirmed, or committed when replicated). A fetch that
/// found nothing new waits on the current signal up to its max wait; <see cref="Signal"/> completes that signal and
/// starts the next, so every fetch waiting now wakes and a later fetch waits for the next change. Not thread-safe: the
/// partition grain's turns serialise every use.
/// </summary>
internal sealed class AppendSignal(TimeProvider time)
{
    // Completed with the signal's timestamp (TimeProvider.GetTimestamp), so that a woken fetch can tell how long it
    // took to answer (granary.fetch.wake).
    private TaskCompletionSource<long> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes when the next <see cref="Signal"/> comes (true) or <paramref name="maxWait"/> passes on the clock
    /// (false). Never throws: a timeout is an empty fetch, not an error.
    /// </summary>
    public async Task<bool> WaitAsync(TimeSpan maxWait) => await WaitForSignalAsync(maxWait) is not null;

    /// <summary>
    /// As <see cref="WaitAsync"/>, answering the timestamp (<see cref="TimeProvider.GetTimestamp"/> of the clock) of
    /// the signal that woke the wait, or null when <paramref name="maxWait"/> passed first.
    /// </summary>
    public async Task<long?> WaitForSignalAsync(TimeSpan maxWait)
    {
        var next = _next.Task;
        if (maxWait <= TimeSpan.Zero) return next.IsCompleted ? next.Result : null;
        // Continues on the caller's context (the grain's scheduler), which the fetch goes on using.
        // As a plain Task: only that one can suppress the timeout's exception.
        await ((Task)next.WaitAsync(maxWait, time)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        return next.IsCompleted ? next.Result : null;
    }

    /// <summary>Wakes every fetch waiting now; fetches that start waiting after this wait for the next signal.</summary>
    public void Signal()
    {
        var waiting = _next;
        _next = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        waiting.TrySetResult(time.GetTimestamp());
    }
}
