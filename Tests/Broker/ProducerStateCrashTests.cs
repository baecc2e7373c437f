using Granary.Storage;

namespace Granary.Tests.Broker;

/// <summary>
/// Producer and message-id deduplication survive a real silo killed with SIGKILL: from the producer-state snapshot
/// plus a scan of the log after it, or, with the snapshot gone or damaged, from a scan alone.
/// </summary>
public sealed class ProducerStateCrashTests
{
    public enum SnapshotCase { NoneYet, SavedThenMoreAppends, Deleted, Corrupted }

    [Theory]
    [InlineData(SnapshotCase.NoneYet)]
    [InlineData(SnapshotCase.SavedThenMoreAppends)]
    [InlineData(SnapshotCase.Deleted)]
    [InlineData(SnapshotCase.Corrupted)]
    public async Task SigKill_ThenTheSameBatchAgain_IsStoredOnce_WithItsOriginalOffsets(SnapshotCase snapshotCase)
    {
        using var data = new TempDirectory();
        // Where the snapshot is deleted or damaged, any snapshot will do: a 1 s timer writes one sooner than the default
        // 10 s. SavedThenMoreAppends keeps the default, whose long gap between saves leaves the second batch out of it.
        await using var silo = new SiloProcess(data.Path,
            snapshotCase is SnapshotCase.Deleted or SnapshotCase.Corrupted ? ["--Granary:Producers:SnapshotInterval=00:00:01"] : null);
        silo.Start();
        string snapshotFile;
        var first = new MessageBatch([ProducerIdempotenceTests.Message("a"), ProducerIdempotenceTests.Message("b")]) { ProducerId = 4242, BaseSequence = 0 };
        var second = new MessageBatch([ProducerIdempotenceTests.Message("c")]) { ProducerId = 4242, BaseSequence = 2 };
        AppendResult firstResult, secondResult;

        await using (var client = await silo.ConnectWhenReadyAsync())
        {
            await client.Admin.CreateTopicAsync("orders");
            var partition = client.Cluster.GetGrain<IPartitionGrain>("orders/0");
            await partition.AppendAsync(new MessageBatch([ProducerIdempotenceTests.Message("before")]));
            snapshotFile = ProducerStateSnapshot.PathIn(SiloOnDirectory.PartitionDirectories(data.Path, "orders", 0).Single());
            firstResult = await partition.AppendAsync(first);
            if (snapshotCase != SnapshotCase.NoneYet)
            {
                // The snapshot timer (10 s) saves what changed; later appends are only in the log.
                await Eventually.UntilAsync(() => File.Exists(snapshotFile), TimeSpan.FromSeconds(90));
            }
            secondResult = await partition.AppendAsync(second);
            await silo.KillAsync();
        }

        if (snapshotCase == SnapshotCase.NoneYet) Assert.False(File.Exists(snapshotFile));
        if (snapshotCase == SnapshotCase.SavedThenMoreAppends)
        {
            // The case this is: the snapshot has the first batch, only the log has the second.
            var saved = ProducerStateSnapshot.TryRead(Path.GetDirectoryName(snapshotFile)!, out string? problem);
            Assert.True(saved is not null, problem);
            Assert.InRange(saved.CoveredOffset, firstResult.BaseOffset + firstResult.Count, secondResult.BaseOffset);
        }
        if (snapshotCase == SnapshotCase.Deleted) File.Delete(snapshotFile);
        if (snapshotCase == SnapshotCase.Corrupted)
        {
            byte[] bytes = File.ReadAllBytes(snapshotFile);
            bytes[^6] ^= 0x40;
            File.WriteAllBytes(snapshotFile, bytes);
        }

        silo.Start();
        await using var restarted = await silo.ConnectWhenReadyAsync();
        var again = restarted.Cluster.GetGrain<IPartitionGrain>("orders/0");
        var firstAgain = await again.AppendAsync(first);
        var secondAgain = await again.AppendAsync(second);

        Assert.Equal((firstResult.BaseOffset, firstResult.Count, firstResult.TimestampMs), (firstAgain.BaseOffset, firstAgain.Count, firstAgain.TimestampMs));
        Assert.Equal((secondResult.BaseOffset, secondResult.Count), (secondAgain.BaseOffset, secondAgain.Count));
        Assert.Equal(4, (await restarted.Admin.DescribeTopicAsync("orders")).PartitionDetails.Single().EndOffset);
        // The producer's position came back too: a gap is refused, the next sequence is stored.
        var gap = await Assert.ThrowsAsync<GranaryException>(() => again.AppendAsync(new MessageBatch([ProducerIdempotenceTests.Message("e")]) { ProducerId = 4242, BaseSequence = 4 }));
        Assert.Equal(GranaryErrorCode.OutOfOrderSequence, gap.Code);
        Assert.Equal(4, (await again.AppendAsync(new MessageBatch([ProducerIdempotenceTests.Message("d")]) { ProducerId = 4242, BaseSequence = 3 })).BaseOffset);
    }

    [Fact]
    public async Task SigKill_ThenTheSameMessageIdAgain_IsADuplicate_AndConsumedOnce()
    {
        using var data = new TempDirectory();
        await using var silo = new SiloProcess(data.Path);
        silo.Start();
        SendReceipt original;
        await using (var client = await silo.ConnectWhenReadyAsync())
        {
            await client.Admin.CreateTopicAsync("payments", new TopicOptions { Partitions = 3, DedupWindow = TimeSpan.FromHours(1) });
            await using var producer = client.CreateProducer("payments");
            original = await producer.SendAsync(new OutgoingMessage("pay 1"u8.ToArray()) { MessageId = "payment-1" });
            await silo.KillAsync();
        }

        silo.Start();
        await using var restarted = await silo.ConnectWhenReadyAsync();
        await using (var producer = restarted.CreateProducer("payments"))
        {
            var repeat = await producer.SendAsync(new OutgoingMessage("pay 1"u8.ToArray()) { MessageId = "payment-1" });
            Assert.True(repeat.IsDuplicate);
            Assert.Equal((original.Partition, original.Offset), (repeat.Partition, repeat.Offset));
            await producer.SendAsync(new OutgoingMessage("end"u8.ToArray()) { Partition = original.Partition });
        }
        await using var consumer = restarted.CreateConsumer("payments", "billing", new ConsumerOptions { AckTimeout = TimeSpan.FromMinutes(10) });
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Any(m => MessagingTests.Text(m) == "end"), TimeSpan.FromSeconds(120), m => m.AckAsync());
        Assert.Single(received, m => m.MessageId == "payment-1");
    }
}
