using Granary.Grains.Partitions;
using Granary.Records;
using static Granary.Tests.Storage.LogTestKit;

namespace Granary.Tests.Partitions;

/// <summary>Which stored batches a fetch sends, read from their headers only.</summary>
public sealed class FetchSliceTests
{
    // Two stored batches: offsets [0, 3) and [3, 6).
    private static readonly byte[] First = At(0, Batch("a", "b", "c"));
    private static readonly byte[] Second = At(3, Batch("d", "e", "f"));
    private static readonly byte[] Both = [.. First, .. Second];

    [Fact]
    public void Of_EverythingVisible_SendsBothBatchesWhole()
    {
        Assert.Equal(new FetchSlice(0, Both.Length, 6), FetchSlice.Of(Both, from: 1, end: 6, maxMessages: 100));
    }

    [Fact]
    public void Of_ABatchWhollyBelowFrom_IsNotSent()
    {
        Assert.Equal(new FetchSlice(First.Length, Both.Length, 6), FetchSlice.Of(Both, from: 3, end: 6, maxMessages: 100));
    }

    [Fact]
    public void Of_MaxMessages_StopsAfterTheBatchThatReachesIt()
    {
        Assert.Equal(new FetchSlice(0, First.Length, 2), FetchSlice.Of(Both, from: 0, end: 6, maxMessages: 2));
        Assert.Equal(new FetchSlice(0, Both.Length, 4), FetchSlice.Of(Both, from: 0, end: 6, maxMessages: 4));
    }

    [Fact]
    public void Of_RecordsAtOrPastTheVisibleEnd_AreNotAnswered()
    {
        Assert.Equal(new FetchSlice(0, Both.Length, 4), FetchSlice.Of(Both, from: 0, end: 4, maxMessages: 100));
        Assert.Equal(new FetchSlice(0, First.Length, 3), FetchSlice.Of(Both, from: 0, end: 3, maxMessages: 100));
    }

    [Fact]
    public void Of_NothingVisibleFromFrom_AnswersNothing()
    {
        var slice = FetchSlice.Of(Both, from: 6, end: 6, maxMessages: 100);

        Assert.Equal(6, slice.Next);
        Assert.Equal(slice.Begin, slice.End);
    }

    private static byte[] At(long baseOffset, byte[] batch)
    {
        RecordBatchCodec.RewriteHeader(batch, baseOffset, RecordBatchCodec.ReadRecordCount(batch));
        return batch;
    }
}
