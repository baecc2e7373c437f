namespace Granary.Tests.Broker;

/// <summary>
/// Deleting a topic while producers and consumers use it: every call that was waiting on its partitions, and every
/// call after, answers <see cref="GranaryErrorCode.TopicNotFound"/> (never the server's ObjectDisposedException, which reached
/// consumers as "Closed: The client was disposed").
/// </summary>
public sealed class TopicDeleteTests
{
    [Fact]
    public async Task Delete_WhileAFetchLongPolls_TheFetchAnswersTopicNotFoundAtOnce()
    {
        await using var silo = await OneSiloCluster.StartAsync();
        string topic = BrokerClusterFixture.UniqueTopic("deleted");
        await silo.Client.Admin.CreateTopicAsync(topic);
        var partition = silo.Cluster.SiloGrainFactory().GetGrain<IPartitionGrain>($"{topic}/0");
        await partition.AppendAsync(new MessageBatch([new Message(null, "a"u8.ToArray(), null)]));
        var polling = partition.FetchAsync(1, 10, TimeSpan.FromMinutes(2));

        await silo.Client.Admin.DeleteTopicAsync(topic);

        // Before the fix the fetch slept through its whole wait and then answered "nothing new" from the closed log.
        var error = await Assert.ThrowsAsync<GranaryException>(() => polling.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(GranaryErrorCode.TopicNotFound, error.Code);
        Assert.Equal(GranaryErrorCode.TopicNotFound, (await Assert.ThrowsAsync<GranaryException>(() => partition.FetchAsync(0, 10, TimeSpan.Zero))).Code);
        Assert.Equal(GranaryErrorCode.TopicNotFound, (await Assert.ThrowsAsync<GranaryException>(() =>
            partition.AppendAsync(new MessageBatch([new Message(null, "b"u8.ToArray(), null)])))).Code);
        var cursor = silo.Cluster.SiloGrainFactory().GetGrain<IPartitionCursorGrain>($"{topic}/g/0");
        Assert.Equal(GranaryErrorCode.TopicNotFound, (await Assert.ThrowsAsync<GranaryException>(() => cursor.PullDecodedAsync("m", 10, TimeSpan.FromSeconds(30), TimeSpan.Zero))).Code);
    }

    [Fact]
    public async Task Delete_WhileConsumersRead_TheyEndWithTopicNotFound()
    {
        await using var silo = await OneSiloCluster.StartAsync();
        string topic = BrokerClusterFixture.UniqueTopic("deleted");
        await silo.Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 4 });
        await using (var producer = silo.Client.CreateProducer(topic))
        {
            await Task.WhenAll(Enumerable.Range(0, 2_000).Select(i => producer.SendAsync(new OutgoingMessage(new byte[100]) { Key = $"k{i}" })));
        }
        var consumers = Enumerable.Range(0, 3).Select(_ => silo.Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = ClientTestExtensions.NoExpiry, MaxPrefetch = 20 })).ToList();
        try
        {
            int read = 0;
            var reading = consumers.Select(consumer => Task.Run(async () =>
            {
                // Slow readers with a backlog: pulls and fetches are in flight when the topic goes.
                await foreach (var message in consumer.ReadAllAsync())
                {
                    Interlocked.Increment(ref read);
                    await message.AckAsync();
                    await Task.Delay(1);
                }
            })).ToList();
            await Eventually.UntilAsync(() => Volatile.Read(ref read) >= 100);

            await silo.Client.Admin.DeleteTopicAsync(topic);

            foreach (var task in reading)
            {
                var error = await Assert.ThrowsAsync<GranaryException>(() => task.WaitAsync(TimeSpan.FromSeconds(120)));
                Assert.Equal(GranaryErrorCode.TopicNotFound, error.Code);
            }
        }
        finally
        {
            foreach (var consumer in consumers) await consumer.DisposeAsync();
        }
    }
}
