namespace Granary.Storage;

/// <summary>When a partition log forces its writes to disk.</summary>
public enum FlushPolicy
{
    /// <summary>
    /// Every append completes only after an fsync covers it. Concurrent appends share one fsync (group commit).
    /// </summary>
    Always = 0,

    /// <summary>
    /// Appends complete once written to the operating system; the log fsyncs every
    /// <see cref="PartitionLogOptions.FlushInterval"/>. A machine crash can lose up to one interval.
    /// </summary>
    Interval = 1,

    /// <summary>The log never fsyncs on its own (only on close); the operating system decides.</summary>
    None = 2,
}
