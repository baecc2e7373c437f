namespace Granary.Tests.Broker;

/// <summary>
/// Allocations of whole partition appends in a running silo (issue 18): batches as the SDK encodes them, appended
/// through the grain from inside its one silo (a local call: no serialization, so what is measured is the silo's own
/// work, not the copy a remote request's deserialization makes), measured with GC.GetTotalAllocatedBytes over the
/// whole process, so everything the silo did meanwhile counts (timers, the flush loop, Orleans' call machinery).
/// </summary>
[Collection(AllocationMeasurement.Name)]
public sealed class PartitionAppendAllocationTests(ITestOutputHelper output)
{
    private const int Messages = 1000;

    [Fact]
    public async Task GrainAppend_WithoutMessageIds_AllocatesUnder16BytesPerMessage() =>
        // Measured 7.1 bytes per message (per-append costs: the call, the result, the flush wait; nothing per message).
        Assert.True(await MeasureAsync(withMessageIds: false) < 16);

    [Fact]
    public async Task GrainAppend_WithMessageIds_AllocatesOnlyWhatTheDedupWindowKeeps()
    {
        // Measured 186 bytes per message: the window's dictionary (40-byte entries) and arrival queue (32-byte entries)
        // growing by doubling while 60,000 ids are remembered, memory the window keeps for its duration; no string and no
        // per-message garbage (before issue 18 each id was also decoded into a string of its own).
        Assert.True(await MeasureAsync(withMessageIds: true) < 256);
    }

    private async Task<double> MeasureAsync(bool withMessageIds)
    {
        await using var silo = await OneSiloCluster.StartAsync();
        string topic = BrokerClusterFixture.UniqueTopic("alloc");
        await silo.Client.Admin.CreateTopicAsync(topic, new TopicOptions { DedupWindow = withMessageIds ? TimeSpan.FromMinutes(10) : null });
        var partition = silo.Cluster.SiloGrainFactory().GetGrain<IPartitionGrain>($"{topic}/0");
        var batches = Enumerable.Range(0, 60).Select(b => ProduceBatchEncoder.Encode(
            Enumerable.Range(0, Messages).Select(i => new Message(null, new byte[100],
                withMessageIds ? [new MessageHeader(GranaryHeaders.MessageId, Encoding.UTF8.GetBytes($"id-{b}-{i}"))] : null)).ToArray(),
            producerId: 42, baseSequence: b * Messages)).ToArray();

        for (int b = 0; b < 10; b++) await partition.AppendAsync(batches[b]);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        for (int b = 10; b < batches.Length; b++) await partition.AppendAsync(batches[b]);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        int measured = (batches.Length - 10) * Messages;
        double perMessage = allocated / (double)measured;
        output.WriteLine($"message ids {withMessageIds}: {allocated} bytes for {measured} messages in {batches.Length - 10} appends: {perMessage:0.0} bytes per message");
        return perMessage;
    }
}

/// <summary>
/// Tests that measure the whole process's allocations run alone (xunit runs a collection that disables
/// parallelization after the others, by itself), so no other test's work is counted.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationMeasurement
{
    public const string Name = "Whole-process allocation measurements (alone)";
}
