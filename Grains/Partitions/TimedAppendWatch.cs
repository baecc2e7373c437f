namespace Granary.Grains.Partitions;

/// <summary>
/// Decides when a partition wakes its groups' cursors for expiring and delayed messages, so that those are handled with
/// no consumer connected. The cursors are told once about the first timed append; a cursor that stops watching says
/// from which offset it last looked, and is woken again at once if a timed message was appended after that. Not
/// thread-safe: the partition grain's turns serialise every use.
/// </summary>
internal sealed class TimedAppendWatch
{
    // True until the cursors are told about a timed append, and again once one of them stops watching.
    private bool _wakeNeeded = true;
    // End offset after the last append that held an expiring or delayed message.
    private long _timedEnd;

    /// <summary>An append holding expiring or delayed messages ended at <paramref name="endOffset"/>: true when every group's cursor must be woken.</summary>
    public bool OnTimedAppend(long endOffset)
    {
        _timedEnd = Math.Max(_timedEnd, endOffset);
        if (!_wakeNeeded) return false;
        _wakeNeeded = false;
        return true;
    }

    /// <summary>
    /// A cursor stopped watching, having looked up to <paramref name="fromOffset"/>: true when it must be woken again at
    /// once (a timed message was appended after its last look); otherwise the next timed append wakes the cursors.
    /// </summary>
    public bool OnWatchStopped(long fromOffset)
    {
        if (_timedEnd > fromOffset) return true;
        _wakeNeeded = true;
        return false;
    }

    /// <summary>Waking the cursors failed: the next timed append tries again.</summary>
    public void OnWakeFailed() => _wakeNeeded = true;
}
