namespace Granary.Storage;

/// <summary>Where an appended batch landed.</summary>
/// <param name="BaseOffset">Offset of the batch's first record.</param>
/// <param name="RecordCount">Number of records in the batch.</param>
public readonly record struct LogAppendResult(long BaseOffset, int RecordCount)
{
    /// <summary>Offset of the batch's last record.</summary>
    public long LastOffset => BaseOffset + RecordCount - 1;
}
