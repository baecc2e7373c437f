namespace Granary.Tests.Broker;

[Collection(BrokerCluster.Name)]
public sealed class ErrorTests(BrokerClusterFixture fixture)
{
    private GranaryClient Client => fixture.Client;

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("slash/inside")]
    [InlineData("ünïcode")]
    public async Task InvalidTopicOrGroupName_IsRejectedWithInvalidName(string name)
    {
        Assert.Equal(GranaryErrorCode.InvalidName, (await Assert.ThrowsAsync<GranaryException>(() => Client.Admin.CreateTopicAsync(name))).Code);
        Assert.Equal(GranaryErrorCode.InvalidName, Assert.Throws<GranaryException>(() => Client.CreateProducer(name)).Code);
        Assert.Equal(GranaryErrorCode.InvalidName, Assert.Throws<GranaryException>(() => Client.CreateConsumer("valid", name)).Code);
        Assert.Equal(GranaryErrorCode.InvalidName, Assert.Throws<GranaryException>(() => Client.CreateConsumer(name, "valid")).Code);
    }

    [Fact]
    public async Task LongestValidName_IsAccepted_OneMoreCharacterIsNot()
    {
        string longest = new('n', 200);
        await Client.Admin.CreateTopicAsync(longest);
        await Client.Admin.DeleteTopicAsync(longest);
        Assert.Equal(GranaryErrorCode.InvalidName, (await Assert.ThrowsAsync<GranaryException>(() => Client.Admin.CreateTopicAsync(longest + "n"))).Code);
    }

    [Fact]
    public async Task CreateTopic_DefaultTimeToLiveBeyondAHundredYears_IsRejected_AndTheLongestIsAccepted()
    {
        // Beyond it, a message's expiry is past what DateTimeOffset can show a consumer (ExpiresAt threw).
        string topic = BrokerClusterFixture.UniqueTopic();
        var tooLong = await Assert.ThrowsAsync<GranaryException>(() =>
            Client.Admin.CreateTopicAsync(topic, new TopicOptions { DefaultTimeToLive = TimeSpan.FromDays(36_526) }));
        Assert.Equal(GranaryErrorCode.InvalidArgument, tooLong.Code);
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { DefaultTimeToLive = TimeSpan.FromDays(36_525) });
        await using var producer = Client.CreateProducer(topic);
        await producer.SendAsync(new OutgoingMessage("x"u8.ToArray()));
        await using var consumer = Client.CreateConsumer(topic, BrokerClusterFixture.UniqueTopic());
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await foreach (var message in consumer.ReadAllAsync(cts.Token))
        {
            Assert.NotNull(message.ExpiresAt);
            Assert.True(message.ExpiresAt > DateTimeOffset.UtcNow.AddYears(99));
            await message.AckAsync();
            break;
        }
    }

    [Fact]
    public async Task CreateTopic_ZeroPartitionsOrExistingName_IsRejected()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        var zero = await Assert.ThrowsAsync<GranaryException>(() => Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 0 }));
        Assert.Equal(GranaryErrorCode.InvalidArgument, zero.Code);
        await Client.Admin.CreateTopicAsync(topic);
        var twice = await Assert.ThrowsAsync<GranaryException>(() => Client.Admin.CreateTopicAsync(topic));
        Assert.Equal(GranaryErrorCode.TopicAlreadyExists, twice.Code);
        Assert.False(twice.IsRetriable);
    }

    [Fact]
    public async Task UnknownTopic_ProducerAndConsumerGetTopicNotFound()
    {
        string topic = BrokerClusterFixture.UniqueTopic("missing");
        await using var producer = Client.CreateProducer(topic);
        var send = await Assert.ThrowsAsync<GranaryException>(() => producer.SendAsync(new OutgoingMessage("x"u8.ToArray())));
        Assert.Equal(GranaryErrorCode.TopicNotFound, send.Code);

        await using var consumer = Client.CreateConsumer(topic, "g");
        var read = await Assert.ThrowsAsync<GranaryException>(() => Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count > 0));
        Assert.Equal(GranaryErrorCode.TopicNotFound, read.Code);
        Assert.Equal(GranaryErrorCode.TopicNotFound, (await Assert.ThrowsAsync<GranaryException>(() => Client.Admin.DescribeTopicAsync(topic))).Code);
    }

    [Fact]
    public async Task MessageOverTheTopicLimit_IsRejected_AndTheSiloKeepsServing()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { MaxMessageBytes = 1024 });
        await using var producer = Client.CreateProducer(topic);

        var tooLarge = await Assert.ThrowsAsync<GranaryException>(() => producer.SendAsync(new OutgoingMessage(new byte[1025])));
        Assert.Equal(GranaryErrorCode.MessageTooLarge, tooLarge.Code);
        // A client that skips the SDK's check meets the same rule in the partition grain.
        var direct = fixture.Cluster.Client.GetGrain<IPartitionGrain>($"{topic}/0");
        var serverSide = await Assert.ThrowsAsync<GranaryException>(() => direct.AppendAsync(new MessageBatch([new Message(null, new byte[4096], null)])));
        Assert.Equal(GranaryErrorCode.MessageTooLarge, serverSide.Code);
        var empty = await Assert.ThrowsAsync<GranaryException>(() => direct.AppendAsync(new MessageBatch([])));
        Assert.Equal(GranaryErrorCode.InvalidArgument, empty.Code);

        var fits = await producer.SendAsync(new OutgoingMessage(new byte[1000]));
        Assert.Equal(0, fits.Offset);
    }

    [Fact]
    public async Task NegativeOffset_IsRejectedByThePartition()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        var partition = fixture.Cluster.Client.GetGrain<IPartitionGrain>($"{topic}/0");

        var error = await Assert.ThrowsAsync<GranaryException>(() => partition.FetchAsync(-1, 10, TimeSpan.Zero));

        Assert.Equal(GranaryErrorCode.InvalidArgument, error.Code);
    }

    [Fact]
    public async Task AckingTwice_IsRejectedWithAlreadyAcknowledged()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using var producer = Client.CreateProducer(topic);
        await producer.SendAsync(new OutgoingMessage("once"u8.ToArray()));
        await using var consumer = Client.CreateConsumer(topic, "g");
        var message = (await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1))[0];

        await message.AckAsync();

        Assert.Equal(GranaryErrorCode.AlreadyAcknowledged, (await Assert.ThrowsAsync<GranaryException>(() => message.AckAsync())).Code);
        Assert.Equal(GranaryErrorCode.AlreadyAcknowledged, (await Assert.ThrowsAsync<GranaryException>(() => message.NackAsync())).Code);
    }

    [Fact]
    public async Task DeletedTopic_ConsumersAndProducersGetTopicNotFound_AndItLeavesTheList()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 2 });
        await using var producer = Client.CreateProducer(topic);
        await producer.SendAsync(new OutgoingMessage("before"u8.ToArray()));
        await using var consumer = Client.CreateConsumer(topic, "g");
        var first = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1);
        await first[0].AckAsync();
        Assert.Contains(topic, await Client.Admin.ListTopicsAsync());

        await Client.Admin.DeleteTopicAsync(topic);

        var read = await Assert.ThrowsAsync<GranaryException>(() => Eventually.CollectAsync(consumer.ReadAllAsync(), r => false));
        Assert.Equal(GranaryErrorCode.TopicNotFound, read.Code);
        await using var late = Client.CreateProducer(topic);
        Assert.Equal(GranaryErrorCode.TopicNotFound, (await Assert.ThrowsAsync<GranaryException>(() => late.SendAsync(new OutgoingMessage("after"u8.ToArray())))).Code);
        Assert.DoesNotContain(topic, await Client.Admin.ListTopicsAsync());
    }

    [Fact]
    public async Task Admin_CreateDescribeListDelete()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic, new TopicOptions { Partitions = 3, MaxMessageBytes = 4096, RetentionTime = TimeSpan.FromDays(1) });
        await using (var producer = Client.CreateProducer(topic))
            await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes("x")) { Partition = 2 });

        var description = await Client.Admin.DescribeTopicAsync(topic);

        Assert.Equal(3, description.Config.Partitions);
        Assert.Equal(4096, description.Config.MaxMessageBytes);
        Assert.Equal(TimeSpan.FromDays(1), description.Config.RetentionTime);
        Assert.Equal([0L, 0L, 1L], description.PartitionDetails.Select(p => p.EndOffset));
        Assert.Contains(topic, await Client.Admin.ListTopicsAsync());
        await Client.Admin.DeleteTopicAsync(topic);
        Assert.Equal(GranaryErrorCode.TopicNotFound, (await Assert.ThrowsAsync<GranaryException>(() => Client.Admin.DeleteTopicAsync(topic))).Code);
    }
}
