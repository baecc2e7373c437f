using Granary.Records;

namespace Granary.Grains.Cursors;

/// <summary>
/// Builds a pull's answer: one buffer holding the leased records copied verbatim, grouped into batches of contiguous
/// offsets from one source batch, each under a copy of its source batch's header (patched: base offset, record count,
/// length, max timestamp, CRC). No record is decoded or re-encoded.
/// </summary>
internal static class PullAnswer
{
    /// <summary>
    /// The answer for <paramref name="messages"/> (ascending offsets) with their <paramref name="leases"/> (same order).
    /// </summary>
    public static PullResult Write(int partition, ReadOnlySpan<BufferedMessage> messages, LeasedRecord[] leases)
    {
        if (messages.Length == 0) return PullResult.Empty(partition);
        int size = 0;
        for (int i = 0; i < messages.Length; i++)
        {
            if (StartsGroup(messages, i)) size += StoredBatches.SizeOfExcerpt(messages[i].Batch.Span, 0);
            size += messages[i].RecordLength;
        }
        var buffer = new byte[size];
        int position = 0;
        for (int i = 0; i < messages.Length;)
        {
            int groupStart = position;
            var first = messages[i];
            position += StoredBatches.BeginExcerpt(first.Batch.Span, buffer.AsSpan(position));
            long maxTimestamp = long.MinValue;
            int count = 0;
            do
            {
                var message = messages[i];
                message.Record.CopyTo(buffer.AsSpan(position));
                position += message.RecordLength;
                maxTimestamp = Math.Max(maxTimestamp, message.TimestampMs);
                count++;
                i++;
            }
            while (i < messages.Length && !StartsGroup(messages, i));
            StoredBatches.FinishExcerpt(buffer.AsSpan(groupStart, position - groupStart), first.Offset, count, maxTimestamp);
        }
        return new PullResult(partition, buffer, leases);
    }

    /// <summary>A new batch starts where the offset is not the previous one's next, or the source batch changes.</summary>
    private static bool StartsGroup(ReadOnlySpan<BufferedMessage> messages, int i) =>
        i == 0 || messages[i].Offset != messages[i - 1].Offset + 1 || !messages[i].Batch.Equals(messages[i - 1].Batch);
}
