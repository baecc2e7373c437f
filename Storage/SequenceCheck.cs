namespace Granary.Storage;

/// <summary>How a partition treats an idempotent producer's batch.</summary>
internal enum SequenceCheck
{
    /// <summary>New: store it.</summary>
    Accept,
    /// <summary>Processed before: answer with the first result, store nothing.</summary>
    Duplicate,
    /// <summary>Sequences are missing before it (an earlier batch is being retried): refuse, retriably.</summary>
    OutOfOrder,
    /// <summary>Processed before, but too long ago to know where it landed.</summary>
    TooOld,
}
