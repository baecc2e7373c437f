using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Granary.Tests.Broker;

/// <summary>
/// A produce call received from another process is read into an array rented from the shared pool (issue 18), not a
/// new array per call; the partition returns it exactly once, after the log wrote the bytes or the batch was refused,
/// and never returns bytes a caller in the same silo owns.
/// </summary>
[Collection(AllocationMeasurement.Name)]
public sealed class PooledBatchBytesTests(ITestOutputHelper output)
{
    private const int Messages = 1000;

    private static ProduceBatch Batch(int b, long producerId = 42, int messages = Messages, int? baseSequence = null) => ProduceBatchEncoder.Encode(
        Enumerable.Range(0, messages).Select(i => new Message(null, Encoding.UTF8.GetBytes($"batch {b} message {i}".PadRight(100, '.')), null)).ToArray(),
        producerId, baseSequence ?? b * messages);

    [Fact]
    public void Deserialized_IsRented_AndReturnsOnce_ACallersOwnBytesNever()
    {
        var serializer = new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(ProduceBatch).Assembly))
            .BuildServiceProvider().GetRequiredService<Serializer>();
        var sent = Batch(0, messages: 3);
        Assert.False(sent.Bytes.IsRented);
        Assert.False(sent.Bytes.ReturnToPool());

        var received = serializer.Deserialize<ProduceBatch>(serializer.SerializeToArray(sent))!;
        Assert.True(received.Bytes.IsRented);
        Assert.Equal(sent.Records.ToArray(), received.Records.ToArray());
        Assert.Equal((sent.RecordCount, sent.ProducerId, sent.BaseSequence, sent.Acks), (received.RecordCount, received.ProducerId, received.BaseSequence, received.Acks));
        Assert.True(received.Bytes.ReturnToPool());
        Assert.False(received.Bytes.ReturnToPool());
        Assert.False(received.Bytes.IsRented);

        // An empty batch rents nothing; a forged call without the field reads as no bytes (refused as malformed).
        Assert.False(serializer.Deserialize<ProduceBatch>(serializer.SerializeToArray(new ProduceBatch(ReadOnlyMemory<byte>.Empty, 1)))!.Bytes.IsRented);
        Assert.True((sent with { Bytes = null! }).Records.IsEmpty);
    }

    [Fact]
    public async Task RemoteAppends_ReturnEveryRentedBatch_Stored_Refused_OrARetry_AndTheStoredBytesAreIntact()
    {
        await using var silo = await OneSiloCluster.StartAsync();
        string topic = BrokerClusterFixture.UniqueTopic("pooled");
        await silo.Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });
        long before = BatchBytes.Outstanding;

        // Many at once on two partitions (one producer each, so they may arrive in any order), so arrays go back and out
        // again while others are being written: a batch returned early (or twice, then rented by two calls) would show up
        // as another batch's bytes in the log.
        var appends = new List<Task<AppendResult>>();
        for (int b = 0; b < 40; b++)
        {
            var partition = silo.Cluster.Client.GetGrain<IPartitionGrain>($"{topic}/{b % 2}");
            appends.Add(partition.AppendAsync(Batch(b, producerId: 1000 + b, messages: 50, baseSequence: 0)));
        }
        var results = await Task.WhenAll(appends);
        var remote = silo.Cluster.Client.GetGrain<IPartitionGrain>($"{topic}/0");
        // A retry of a stored batch (a duplicate), and a refused one (a sequence out of order).
        Assert.Equal(results[0].BaseOffset, (await remote.AppendAsync(Batch(0, producerId: 1000, messages: 50, baseSequence: 0))).BaseOffset);
        var refused = await Assert.ThrowsAsync<GranaryException>(() => remote.AppendAsync(Batch(0, producerId: 1000, messages: 50, baseSequence: 999)));
        Assert.Equal(GranaryErrorCode.OutOfOrderSequence, refused.Code);
        await Eventually.UntilAsync(() => BatchBytes.Outstanding == before, TimeSpan.FromSeconds(30));

        // A caller in the silo keeps its bytes: the partition stamps them in place, but never hands the array to the pool.
        var local = Batch(40, producerId: 2000, messages: 50, baseSequence: 0);
        await silo.Cluster.SiloGrainFactory().GetGrain<IPartitionGrain>($"{topic}/0").AppendAsync(local);
        Assert.False(local.Bytes.IsRented);
        Assert.Equal(before, BatchBytes.Outstanding);

        for (int p = 0; p < 2; p++)
        {
            var fetched = await silo.Cluster.SiloGrainFactory().GetGrain<IPartitionGrain>($"{topic}/{p}").FetchAsync(0, 10_000, TimeSpan.Zero);
            var payloads = fetched.Records().Select(r => Encoding.UTF8.GetString(r.Payload.Span).TrimEnd('.')).Order();
            var expected = Enumerable.Range(0, 41).Where(b => b % 2 == p).SelectMany(b => Enumerable.Range(0, 50).Select(i => $"batch {b} message {i}"));
            Assert.Equal(expected.Order(), payloads);
        }
    }

    [Fact]
    public async Task RemoteAppend_AllocatesNoCopyOfTheBatchInTheSilo()
    {
        // Measured 11.1 bytes per message (client and silo, one process: per call, not per byte). With a new array per
        // call, as Orleans' ReadOnlyMemory<byte> codec reads it, the same run measured 123.3.
        await using var silo = await OneSiloCluster.StartAsync();
        string topic = BrokerClusterFixture.UniqueTopic("pooled-alloc");
        await silo.Client.Admin.CreateTopicAsync(topic);
        var partition = silo.Cluster.Client.GetGrain<IPartitionGrain>($"{topic}/0");
        var batches = Enumerable.Range(0, 60).Select(b => Batch(b)).ToArray();

        for (int b = 0; b < 10; b++) await partition.AppendAsync(batches[b]);
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        for (int b = 10; b < batches.Length; b++) await partition.AppendAsync(batches[b]);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        double perMessage = allocated / (double)((batches.Length - 10) * Messages);
        output.WriteLine($"{allocated} bytes for {(batches.Length - 10) * Messages} messages appended remotely: {perMessage:0.0} bytes per message");
        Assert.True(perMessage < 32, $"{perMessage:0.0} bytes per message");
    }
}
