namespace Granary.Storage;

/// <summary>
/// Stored data failed its checks (length bounds, CRC32C, offset sequence). The damaged bytes are never returned
/// as records. Carries the file, the byte position and the reason.
/// </summary>
public sealed class LogCorruptedException : IOException
{
    /// <summary>Creates the exception.</summary>
    public LogCorruptedException(string file, long position, string reason, long? offset = null, long? resumeOffset = null)
        : base($"Corrupt data in '{file}' at byte {position}{(offset is { } o ? $" (offset {o})" : "")}: {reason}"
            + (resumeOffset is { } r ? $"; reads may continue at offset {r}" : ""))
    {
        File = file;
        Position = position;
        Reason = reason;
        Offset = offset;
        ResumeOffset = resumeOffset;
    }

    /// <summary>The damaged file.</summary>
    public string File { get; }

    /// <summary>Byte position in <see cref="File"/> where the damage was found.</summary>
    public long Position { get; }

    /// <summary>What check failed.</summary>
    public string Reason { get; }

    /// <summary>The first log offset that cannot be read because of the damage, when known.</summary>
    public long? Offset { get; }

    /// <summary>
    /// The first offset after the damage that a read may try, when known: the records in
    /// [<see cref="Offset"/>, <see cref="ResumeOffset"/>) are lost (the log lists them in <see cref="PartitionLog.Gaps"/>),
    /// and a reader that accepts the loss continues there. The batch there is verified like any other.
    /// </summary>
    public long? ResumeOffset { get; }
}
