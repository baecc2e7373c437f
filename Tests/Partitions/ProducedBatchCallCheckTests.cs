using Granary.Grains.Partitions;

namespace Granary.Tests.Partitions;

/// <summary>The checks of a produce call's own fields, made before the partition opens its log for it.</summary>
public sealed class ProducedBatchCallCheckTests
{
    private static readonly ProduceBatch Two = ProduceBatchEncoder.Encode([new Message(null, new byte[8], null), new Message(null, new byte[8], null)],
        producerId: 7, baseSequence: 0);

    [Fact]
    public void CheckCall_AWellFormedCall_Passes() => ProducedBatchValidator.CheckCall(Two);

    [Theory]
    [InlineData("no batch")]
    [InlineData("no records")]
    [InlineData("more records than the bytes hold")]
    [InlineData("negative sequence")]
    [InlineData("sequences past int.MaxValue")]
    public void CheckCall_ABadCall_IsInvalidArgument(string problem)
    {
        ProduceBatch? batch = problem switch
        {
            "no batch" => null,
            "no records" => Two with { RecordCount = 0 },
            "more records than the bytes hold" => Two with { RecordCount = Two.Records.Length },
            "negative sequence" => Two with { BaseSequence = -1 },
            _ => Two with { BaseSequence = int.MaxValue },
        };

        var refused = Assert.Throws<GranaryException>(() => ProducedBatchValidator.CheckCall(batch));

        Assert.Equal(GranaryErrorCode.InvalidArgument, refused.Code);
    }
}
