namespace Granary.Storage;

/// <summary>Why a write to a partition log failed.</summary>
public enum LogWriteFailure
{
    /// <summary>The file system has no space left (ENOSPC or EDQUOT).</summary>
    DiskFull = 1,
    /// <summary>Any other I/O error from the operating system.</summary>
    IoError = 2,
    /// <summary>The log was closed.</summary>
    Closed = 3,
    /// <summary>
    /// <see cref="IPartitionLog.TruncateTo"/> ran before the write was flushed: it may have been cut. The log stays
    /// writable.
    /// </summary>
    Truncated = 4,
}

/// <summary>
/// A write to a partition log failed. After a <see cref="LogWriteFailure.DiskFull"/> or <see cref="LogWriteFailure.IoError"/>
/// the log refuses every later write with the same failure until it is reopened; everything confirmed before the
/// failure stays readable.
/// </summary>
public sealed class LogWriteException : IOException
{
    /// <summary>Creates the exception.</summary>
    public LogWriteException(LogWriteFailure failure, string message, Exception? innerException = null)
        : base(message, innerException) => Failure = failure;

    /// <summary>Why the write failed.</summary>
    public LogWriteFailure Failure { get; }

    /// <summary>True when the disk is full.</summary>
    public bool IsDiskFull => Failure == LogWriteFailure.DiskFull;
}
