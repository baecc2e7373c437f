namespace Granary.Storage;

/// <summary>
/// One recent batch of an idempotent producer on a partition: its producer sequences
/// <c>[BaseSequence, BaseSequence + Count)</c>, the offset of its first stored record (-1 when none was stored) and
/// the broker timestamp it got.
/// </summary>
public readonly record struct ProducerBatchInfo(int BaseSequence, int Count, long BaseOffset, long TimestampMs)
{
    /// <summary>The last producer sequence of the batch.</summary>
    public int LastSequence => BaseSequence + Count - 1;
}
