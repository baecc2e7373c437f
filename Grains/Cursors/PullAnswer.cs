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
    /// The compact answer (<see cref="LeasedBatches"/>) for <paramref name="messages"/> (ascending offsets) with their
    /// <paramref name="leases"/> (same order, lease ids rising: <see cref="Delivery.DeliveryState.Take"/> gives each
    /// taken message the next one).
    /// </summary>
    public static LeasedBatches WriteRuns(int partition, ReadOnlySpan<BufferedMessage> messages, ReadOnlySpan<LeasedRecord> leases)
    {
        if (leases.Length == 0) return LeasedBatches.Empty(partition);
        int runCount = 1, redeliveries = 0;
        for (int i = 0; i < leases.Length; i++)
        {
            if (i > 0 && !Continues(leases[i - 1], leases[i])) runCount++;
            if (leases[i].Attempt != 1) redeliveries++;
        }
        var runs = new LeaseRun[runCount];
        LeaseAttempt[] attempts = redeliveries == 0 ? [] : new LeaseAttempt[redeliveries];
        int run = 0, start = 0, attempt = 0;
        for (int i = 0; i < leases.Length; i++)
        {
            if (i > 0 && !Continues(leases[i - 1], leases[i]))
            {
                runs[run++] = new LeaseRun(leases[start].Offset, leases[start].LeaseId, i - start);
                start = i;
            }
            if (leases[i].Attempt != 1) attempts[attempt++] = new LeaseAttempt(leases[i].Offset, leases[i].Attempt);
        }
        runs[run] = new LeaseRun(leases[start].Offset, leases[start].LeaseId, leases.Length - start);
        var records = PulledBytes.Rent(SizeOf(messages), out var buffer);
        WriteRecords(messages, buffer);
        return new LeasedBatches(partition, records, runs, attempts);
    }

    /// <summary>Whether <paramref name="next"/> extends the run of <paramref name="previous"/>: next offset under the next lease id.</summary>
    private static bool Continues(LeasedRecord previous, LeasedRecord next) =>
        next.Offset == previous.Offset + 1 && next.LeaseId == previous.LeaseId + 1;

    /// <summary>
    /// The answer of the earlier form (<see cref="PullResult"/>, a lease object per record) for
    /// <paramref name="messages"/> (ascending offsets) with their <paramref name="leases"/> (same order).
    /// </summary>
    public static PullResult Write(int partition, ReadOnlySpan<BufferedMessage> messages, LeasedRecord[] leases) =>
        messages.Length == 0 ? PullResult.Empty(partition) : new PullResult(partition, WriteRecords(messages, new byte[SizeOf(messages)]), leases);

    /// <summary>The size of the answer's records for <paramref name="messages"/>.</summary>
    private static int SizeOf(ReadOnlySpan<BufferedMessage> messages)
    {
        int size = 0;
        for (int i = 0; i < messages.Length; i++)
        {
            if (StartsGroup(messages, i)) size += StoredBatches.SizeOfExcerpt(messages[i].Batch.Span, 0);
            size += messages[i].RecordLength;
        }
        return size;
    }

    /// <summary>
    /// Writes the records of <paramref name="messages"/> (ascending offsets), regrouped into patched batches, into
    /// <paramref name="buffer"/> (<see cref="SizeOf"/> bytes); returns <paramref name="buffer"/>.
    /// </summary>
    private static byte[] WriteRecords(ReadOnlySpan<BufferedMessage> messages, byte[] buffer)
    {
        WriteRecords(messages, buffer.AsSpan());
        return buffer;
    }

    private static void WriteRecords(ReadOnlySpan<BufferedMessage> messages, Span<byte> buffer)
    {
        int position = 0;
        for (int i = 0; i < messages.Length;)
        {
            int groupStart = position;
            var first = messages[i];
            position += StoredBatches.BeginExcerpt(first.Batch.Span, buffer[position..]);
            long maxTimestamp = long.MinValue;
            int count = 0;
            do
            {
                var message = messages[i];
                message.Record.CopyTo(buffer[position..]);
                position += message.RecordLength;
                maxTimestamp = Math.Max(maxTimestamp, message.TimestampMs);
                count++;
                i++;
            }
            while (i < messages.Length && !StartsGroup(messages, i));
            StoredBatches.FinishExcerpt(buffer.Slice(groupStart, position - groupStart), first.Offset, count, maxTimestamp);
        }
    }

    /// <summary>A new batch starts where the offset is not the previous one's next, or the source batch changes.</summary>
    private static bool StartsGroup(ReadOnlySpan<BufferedMessage> messages, int i) =>
        i == 0 || messages[i].Offset != messages[i - 1].Offset + 1 || !messages[i].Batch.Equals(messages[i - 1].Batch);
}
