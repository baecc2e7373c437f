using System.Buffers;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Granary.Tests.Broker;

/// <summary>
/// A pull's answer is written into an array rented from the shared pool (issue 18); the codec gives it back once it has
/// copied the bytes into the outgoing message, exactly once, and a caller in the silo, which gets the answer itself,
/// keeps the array. Poisoning the array after it went back must never show in an answer a consumer holds.
/// </summary>
[Collection(AllocationMeasurement.Name)]
public sealed class PulledBytesTests
{
    private static readonly IServiceProvider Services = new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(LeasedBatches).Assembly)).BuildServiceProvider();

    private static Serializer Serializer => Services.GetRequiredService<Serializer>();

    private static byte[] Content(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 31 + 7))];

    private static LeasedBatches RentedAnswer(byte[] content, out byte[] array)
    {
        var records = PulledBytes.Rent(content.Length, out var bytes);
        content.CopyTo(bytes);
        Assert.True(MemoryMarshal.TryGetArray(records.Memory, out var segment));
        array = segment.Array!;
        return new LeasedBatches(3, records, [new LeaseRun(10, 100, 2)], [new LeaseAttempt(11, 2)]);
    }

    /// <summary>Rents from the shared pool until <paramref name="array"/> comes back, fills everything rented with 0xEE, returns it all.</summary>
    private static bool PoisonIfPooled(byte[] array)
    {
        var taken = new List<byte[]>();
        try
        {
            for (int i = 0; i < 1000; i++)
            {
                var rented = ArrayPool<byte>.Shared.Rent(array.Length);
                rented.AsSpan().Fill(0xEE);
                taken.Add(rented);
                if (ReferenceEquals(rented, array)) return true;
            }
            return false;
        }
        finally
        {
            foreach (var rented in taken) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    [Fact]
    public void Serialized_GivesTheArrayBackOnce_AndTheReceivedAnswerStaysIntact_WhenThePoolsNextRenterOverwritesIt()
    {
        var content = Content(5000);
        var sent = RentedAnswer(content, out var array);
        Assert.True(sent.Records.IsRented);

        byte[] wire = Serializer.SerializeToArray(sent);
        Assert.False(sent.Records.IsRented);
        Assert.Throws<ObjectDisposedException>(() => sent.Records.Memory);
        Assert.True(PoisonIfPooled(array), "the answer's array went back to the pool");

        var received = Serializer.Deserialize<LeasedBatches>(wire)!;
        Assert.Equal(content, received.Records.Memory.ToArray());
        Assert.False(received.Records.IsRented); // the receiver's own array: its messages are views over it
        Assert.Equal((3, new LeaseRun(10, 100, 2), new LeaseAttempt(11, 2)), (received.Partition, Assert.Single(received.Runs), Assert.Single(received.Redeliveries)));
        Assert.True(PoisonIfPooled(array));
        Assert.Equal(content, received.Records.Memory.ToArray());
    }

    [Fact]
    public void ASecondWriteOfTheSameAnswer_FailsBeforeWritingAnything_InsteadOfSendingThePoolsBytes()
    {
        var sent = RentedAnswer(Content(300), out _);
        Serializer.SerializeToArray(sent);
        Assert.Throws<ObjectDisposedException>(() => Serializer.SerializeToArray(sent));
    }

    [Fact]
    public void BytesACallerOwns_AreNeverPooled_AndStayReadableAfterSerializing()
    {
        var content = Content(200);
        var answer = new LeasedBatches(0, new PulledBytes(content), [new LeaseRun(0, 1, 1)], []);
        var received = Serializer.Deserialize<LeasedBatches>(Serializer.SerializeToArray(answer))!;
        Assert.Equal(content, answer.Records.Memory.ToArray());
        Assert.Equal(content, received.Records.Memory.ToArray());
        Assert.False(answer.Records.IsRented);
        Assert.Empty(Serializer.Deserialize<LeasedBatches>(Serializer.SerializeToArray(LeasedBatches.Empty(0)))!.Records.Memory.ToArray());
    }

    [Fact]
    public void ACopyInTheSilo_IsTheAnswerItself_SoTheCallerKeepsTheRentedArray_AndNothingGivesItBack()
    {
        // Orleans copies every response in the silo that answers it, remote callers' too (InsideRuntimeClient.Invoke):
        // an answer copied into a fresh array would cost that array on every pull. Immutable: the copy is the instance.
        var sent = RentedAnswer(Content(400), out var array);
        var copy = Services.GetRequiredService<DeepCopier>().Copy(sent);
        Assert.Same(sent, copy);
        Assert.Same(sent.Records, Services.GetRequiredService<DeepCopier>().Copy(sent.Records));
        Assert.True(copy.Records.IsRented);
        Assert.False(PoisonIfPooled(array));
        Assert.Equal(Content(400), copy.Records.Memory.ToArray());
    }

    [Fact]
    public async Task PullsFromOutside_UnderLoad_AndFromInsideTheSilo_EachDecodeToTheirOwnRecords()
    {
        await using var silo = await OneSiloCluster.StartAsync();
        string topic = BrokerClusterFixture.UniqueTopic("pulled");
        await silo.Client.Admin.CreateTopicAsync(topic);
        var partition = silo.Cluster.SiloGrainFactory().GetGrain<IPartitionGrain>($"{topic}/0");
        const int Total = 3000;
        for (int b = 0; b < Total / 500; b++)
            await partition.AppendAsync(new MessageBatch([.. Enumerable.Range(b * 500, 500).Select(i => new Message(null, Encoding.UTF8.GetBytes($"m{i}".PadRight(100 + i % 50, '.')), null))]));

        // Four members pull and ack at once from outside: answers are rented, sent and given back while others are
        // written, so an array given back early (or twice, then rented by two answers) would show as another answer's
        // bytes (a failed CRC or a wrong payload).
        var remote = silo.Cluster.Client.GetGrain<IPartitionCursorGrain>($"{topic}/g/0");
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<long, string>();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(m => Task.Run(async () =>
        {
            while (seen.Count < Total - 100 && DateTime.UtcNow < deadline)
            {
                var answer = await remote.PullRunsAsync($"m{m}", 37, ClientTestExtensions.NoExpiry, TimeSpan.FromMilliseconds(200));
                foreach (var d in PulledDeliveries.Decode(answer))
                    Assert.True(seen.TryAdd(d.Message.Offset, Encoding.UTF8.GetString(d.Message.Payload.Span).TrimEnd('.')));
                if (answer.Runs.Length > 0) Assert.Empty(await remote.AckRunsAsync($"m{m}", answer.Runs));
            }
        })));
        Assert.True(seen.Count >= Total - 100);
        Assert.All(seen, pair => Assert.Equal($"m{pair.Key}", pair.Value));

        // From inside the silo the caller gets the answer itself, rented array and all, and nothing gives it back.
        var inside = silo.Cluster.SiloGrainFactory().GetGrain<IPartitionCursorGrain>($"{topic}/g/0");
        var rest = new List<Delivery>();
        while (seen.Count + rest.Count < Total && DateTime.UtcNow < deadline)
        {
            var local = await inside.PullRunsAsync("inside", Total, ClientTestExtensions.NoExpiry, TimeSpan.FromSeconds(1));
            if (local.Runs.Length == 0) continue;
            Assert.True(local.Records.IsRented);
            Assert.True(MemoryMarshal.TryGetArray(local.Records.Memory, out var segment));
            Assert.False(PoisonIfPooled(segment.Array!));
            rest.AddRange(PulledDeliveries.Decode(local));
        }
        Assert.All(rest, d => Assert.Equal($"m{d.Message.Offset}", Encoding.UTF8.GetString(d.Message.Payload.Span).TrimEnd('.')));
        Assert.Equal(Enumerable.Range(0, Total).Select(i => (long)i), seen.Keys.Concat(rest.Select(d => d.Message.Offset)).Order());
    }
}
