using Granary.Storage;

namespace Granary.Tests.Storage;

public sealed class ProducerStateSnapshotTests
{
    private static ProducerStateSnapshot Sample() => new(1234,
    [
        new ProducerStateEntry(-42, 17, 1_700_000_000_000, [new ProducerBatchInfo(10, 5, 100, 1_699_999_999_000), new ProducerBatchInfo(15, 3, -1, 1_700_000_000_000)]),
        new ProducerStateEntry(long.MaxValue, 0, 5, []),
    ]);

    [Fact]
    public void WriteThenRead_RoundTrips()
    {
        using var dir = new TempDirectory();
        Sample().Write(dir.Path);

        var read = ProducerStateSnapshot.TryRead(dir.Path, out string? problem);

        Assert.Null(problem);
        Assert.NotNull(read);
        Assert.Equal(1234, read.CoveredOffset);
        Assert.Equal(2, read.Producers.Count);
        Assert.Equal(-42, read.Producers[0].ProducerId);
        Assert.Equal(17, read.Producers[0].LastSequence);
        Assert.Equal(Sample().Producers[0].Batches, read.Producers[0].Batches);
        Assert.Empty(read.Producers[1].Batches);
        Assert.False(File.Exists(ProducerStateSnapshot.PathIn(dir.Path) + LogFileNames.TempSuffix));
    }

    [Fact]
    public void Missing_IsNullWithoutAProblem()
    {
        using var dir = new TempDirectory();
        Assert.Null(ProducerStateSnapshot.TryRead(dir.Path, out string? problem));
        Assert.Null(problem);
    }

    [Fact]
    public void AnyFlippedBitOrTruncation_IsDetected()
    {
        byte[] good = Sample().Encode();
        for (int i = 0; i < good.Length; i++)
        {
            for (int bit = 0; bit < 8; bit += 3)
            {
                byte[] bad = (byte[])good.Clone();
                bad[i] ^= (byte)(1 << bit);
                Assert.Null(ProducerStateSnapshot.TryDecode(bad, out string? problem));
                Assert.NotNull(problem);
            }
        }
        for (int length = 0; length < good.Length; length++) Assert.Null(ProducerStateSnapshot.TryDecode(good.AsSpan(0, length), out _));
    }
}
