using Granary.Records;

namespace Granary.Grains.Partitions;

/// <summary>
/// Which of the stored batches a fetch sends: those holding records from <c>from</c> below <c>end</c>, up to
/// <c>maxMessages</c> records, as they are (only the batch headers are read). Batches wholly below <c>from</c> are not
/// sent; a batch is sent whole, and the reader skips its records outside the range (<see cref="Next"/> says where the
/// next fetch starts).
/// </summary>
/// <param name="Begin">Byte offset of the first batch sent.</param>
/// <param name="End">Byte offset after the last batch sent.</param>
/// <param name="Next">The offset after the last record the fetch answers: where the next fetch starts.</param>
internal readonly record struct FetchSlice(int Begin, int End, long Next)
{
    /// <summary>The slice of <paramref name="batches"/> (read from <paramref name="from"/>) a fetch answers.</summary>
    /// <param name="batches">Stored batches as read, the first holding <paramref name="from"/> or later.</param>
    /// <param name="from">The first offset asked for.</param>
    /// <param name="end">The end of what readers may see (confirmed or committed).</param>
    /// <param name="maxMessages">Most records the fetch answers.</param>
    public static FetchSlice Of(ReadOnlySpan<byte> batches, long from, long end, long maxMessages)
    {
        int begin = 0, length = 0;
        long next = from, wanted = maxMessages;
        while (length < batches.Length && wanted > 0)
        {
            var header = batches[length..];
            long baseOffset = RecordBatchCodec.ReadBaseOffset(header);
            long batchNext = Math.Min(baseOffset + RecordBatchCodec.ReadRecordCount(header), end);
            long first = Math.Max(baseOffset, from);
            if (batchNext <= first)
            {
                if (baseOffset >= end) break;
                length += (int)RecordBatchCodec.ReadTotalSize(header);
                if (next == from) begin = length; // wholly below `from`: not sent
                continue;
            }
            long taken = Math.Min(batchNext - first, wanted);
            next = first + taken;
            wanted -= taken;
            length += (int)RecordBatchCodec.ReadTotalSize(header);
        }
        return new FetchSlice(begin, length, next);
    }
}
