using System.Collections.Concurrent;
using Orleans.TestingHost;

namespace Granary.Tests.Broker;

/// <summary>
/// One silo, and a client whose outgoing call filter can lose the confirmation of an append: the call reaches the
/// partition and completes, then the caller sees a timeout, as when a response is lost on the network.
/// </summary>
public sealed class ProducerIdempotenceTests : IAsyncLifetime
{
    private static readonly ConcurrentDictionary<string, int> ConfirmsToLose = new();
    private static readonly ConcurrentDictionary<string, int> Appends = new();
    private OneSiloCluster _silo = null!;
    private InProcessTestCluster _cluster = null!;
    private GranaryClient _client = null!;

    [Fact]
    public async Task AppendAsync_SameProducerBatchTwice_StoresOnce_AndReturnsTheOriginalOffsets()
    {
        string topic = await CreateTopicAsync();
        var partition = _cluster.SiloGrainFactory().GetGrain<IPartitionGrain>($"{topic}/0");
        await partition.AppendAsync(new MessageBatch([Message("other")]));
        var batch = new MessageBatch([Message("a"), Message("b"), Message("c")]) { ProducerId = 77, BaseSequence = 0 };

        var first = await partition.AppendAsync(batch);
        var again = await partition.AppendAsync(batch);

        Assert.Equal(1, first.BaseOffset);
        Assert.Equal(first.BaseOffset, again.BaseOffset);
        Assert.Equal(first.Count, again.Count);
        Assert.Equal(first.TimestampMs, again.TimestampMs);
        Assert.Equal(4, (await partition.DescribeAsync()).EndOffset);
        var next = await partition.AppendAsync(new MessageBatch([Message("d")]) { ProducerId = 77, BaseSequence = 3 });
        Assert.Equal(4, next.BaseOffset);
        // The earlier batch is still recognised after a later one.
        Assert.Equal(1, (await partition.AppendAsync(batch)).BaseOffset);
        Assert.Equal(5, (await partition.DescribeAsync()).EndOffset);
    }

    [Fact]
    public async Task AppendAsync_SequenceGap_IsRefusedAsOutOfOrder_UnknownProducerAcceptedAtAnySequence()
    {
        string topic = await CreateTopicAsync();
        var partition = _cluster.SiloGrainFactory().GetGrain<IPartitionGrain>($"{topic}/0");

        await partition.AppendAsync(new MessageBatch([Message("a")]) { ProducerId = 5, BaseSequence = 1000 });
        var gap = await Assert.ThrowsAsync<GranaryException>(() =>
            partition.AppendAsync(new MessageBatch([Message("c")]) { ProducerId = 5, BaseSequence = 1002 }));

        Assert.Equal(GranaryErrorCode.OutOfOrderSequence, gap.Code);
        Assert.True(gap.IsRetriable);
        Assert.Equal(1, (await partition.DescribeAsync()).EndOffset);
        await partition.AppendAsync(new MessageBatch([Message("b")]) { ProducerId = 5, BaseSequence = 1001 });
        await partition.AppendAsync(new MessageBatch([Message("c")]) { ProducerId = 5, BaseSequence = 1002 });
        Assert.Equal(3, (await partition.DescribeAsync()).EndOffset);
    }

    [Fact]
    public async Task SendAsync_ConfirmationLost_TheRetryIsNotStoredAgain()
    {
        string topic = await CreateTopicAsync();
        await using var producer = _client.CreateProducer(topic, new ProducerOptions { LingerMs = 50 });
        ConfirmsToLose[topic] = 1;

        var receipts = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"m{i}")))));

        Assert.Equal(0, ConfirmsToLose[topic]);
        Assert.True(Appends[topic] >= 2, "the lost confirmation was retried");
        Assert.Equal(5, receipts.Select(r => r.Offset).Distinct().Count());
        var partition = _cluster.SiloGrainFactory().GetGrain<IPartitionGrain>($"{topic}/0");
        Assert.Equal(5, (await partition.DescribeAsync()).EndOffset);
        var stored = await partition.FetchAsync(0, 100, TimeSpan.Zero);
        Assert.Equal(receipts.Select(r => r.Offset).Order(), stored.Records().Select(m => m.Offset));
    }

    [Fact]
    public async Task SendAsync_ConfirmationLost_WithoutIdempotence_IsStoredTwice()
    {
        // The control: the same lost confirmation without idempotence duplicates, so the test above can fail.
        string topic = await CreateTopicAsync();
        await using var producer = _client.CreateProducer(topic, new ProducerOptions { EnableIdempotence = false });
        ConfirmsToLose[topic] = 1;

        await producer.SendAsync(new OutgoingMessage("once"u8.ToArray()));

        Assert.Equal(2, (await _cluster.SiloGrainFactory().GetGrain<IPartitionGrain>($"{topic}/0").DescribeAsync()).EndOffset);
    }

    [Fact]
    public async Task SendAsync_ManyInFlightWithLostConfirmations_EveryMessageStoredOnceInOrderPerBatch()
    {
        string topic = await CreateTopicAsync();
        await using var producer = _client.CreateProducer(topic, new ProducerOptions { MaxInFlightBatchesPerPartition = 5, MaxBatchMessages = 10 });
        ConfirmsToLose[topic] = 3;

        var receipts = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"m{i}")))));

        Assert.Equal(0, ConfirmsToLose[topic]);
        Assert.Equal(200, receipts.Select(r => r.Offset).Distinct().Count());
        Assert.Equal(200, (await _cluster.SiloGrainFactory().GetGrain<IPartitionGrain>($"{topic}/0").DescribeAsync()).EndOffset);
    }

    private async Task<string> CreateTopicAsync()
    {
        string topic = BrokerClusterFixture.UniqueTopic("idem");
        await _client.Admin.CreateTopicAsync(topic);
        return topic;
    }

    internal static Message Message(string text) => new(null, Encoding.UTF8.GetBytes(text), null);

    public async ValueTask InitializeAsync()
    {
        _silo = await OneSiloCluster.StartAsync(client: client => client.AddOutgoingGrainCallFilter(async context =>
        {
            await context.Invoke();
            if (context.InterfaceMethod?.Name != nameof(IPartitionGrain.AppendAsync)) return;
            string topic = context.TargetId.Key.ToString()!.Split('/')[0];
            Appends.AddOrUpdate(topic, 1, (_, n) => n + 1);
            if (ConfirmsToLose.TryGetValue(topic, out int left) && left > 0 && ConfirmsToLose.TryUpdate(topic, left - 1, left))
                throw new TimeoutException("test: the confirmation was lost");
        }));
        _cluster = _silo.Cluster;
        _client = _silo.Client;
    }

    public ValueTask DisposeAsync() => _silo.DisposeAsync();
}
