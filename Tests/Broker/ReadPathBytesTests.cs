using Granary.Records;

namespace Granary.Tests.Broker;

/// <summary>
/// The read path as bytes (issue 18, items 4 and 5): a pull answers with the leased records copied verbatim from the
/// stored batches plus their leases, and a message decoded lazily from those bytes dead-letters with everything it
/// was sent with.
/// </summary>
[Collection(BrokerCluster.Name)]
[Trait("Category", "Integration")]
public sealed class ReadPathBytesTests(BrokerClusterFixture fixture)
{
    private static readonly TimeSpan NoExpiry = ClientTestExtensions.NoExpiry;

    private GranaryClient Client => fixture.Client;

    private IGrainFactory Grains => fixture.Cluster.SiloGrainFactory();

    private static Message Keyed(int i) =>
        new(Encoding.UTF8.GetBytes($"k{i}"), Encoding.UTF8.GetBytes($"m{i}"), [new MessageHeader("app", Encoding.UTF8.GetBytes($"h{i}"))]);

    /// <summary>Pulls as <paramref name="member"/> until <paramref name="count"/> records came, keeping each raw answer.</summary>
    private static async Task<List<PullResult>> PullAsync(IPartitionCursorGrain cursor, string member, int count)
    {
        var answers = new List<PullResult>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (answers.Sum(a => a.Count) < count && DateTime.UtcNow < deadline)
        {
            var answer = await cursor.PullAsync(member, count - answers.Sum(a => a.Count), NoExpiry, TimeSpan.FromSeconds(1));
            if (answer.Count > 0) answers.Add(answer);
        }
        Assert.Equal(count, answers.Sum(a => a.Count));
        return answers;
    }

    [Fact]
    public async Task APullsAnswer_DecodesToExactlyTheLeasedOffsetsWithTheirAttempts_AcrossSourceBatches_AndAroundAckedGaps()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        var partition = Grains.GetGrain<IPartitionGrain>($"{topic}/0");
        // Two appends: two stored batches, offsets 0-4 and 5-9.
        await partition.AppendAsync(new MessageBatch([.. Enumerable.Range(0, 5).Select(Keyed)]));
        await partition.AppendAsync(new MessageBatch([.. Enumerable.Range(5, 5).Select(Keyed)]));
        var cursor = Grains.GetGrain<IPartitionCursorGrain>($"{topic}/g/0");

        var firstAnswers = await PullAsync(cursor, "A", 10);
        var first = firstAnswers.SelectMany(PulledDeliveries.Decode).ToList();
        if (firstAnswers.Count == 1) // one batch per run of contiguous offsets from one source batch
            Assert.Equal([5, 5], StoredBatches.Split(firstAnswers[0].Records).Select(b => new RecordBatch(b).RecordCount));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), first.Select(d => d.Message.Offset));
        Assert.All(first, d => Assert.Equal(1, d.Attempt));

        // Acked 1, 3 and 6 leave gaps; the rest comes back as second attempts.
        long[] acked = [1, 3, 6];
        Assert.Empty(await cursor.AckAsync("A", [.. first.Where(d => acked.Contains(d.Message.Offset)).Select(d => d.Ref)]));
        var nacked = await cursor.NackAsync("A", [.. first.Where(d => !acked.Contains(d.Message.Offset)).Select(d => d.Ref)], TimeSpan.Zero);
        Assert.Empty(nacked.Refused);

        var answers = await PullAsync(cursor, "B", 7);
        var second = answers.SelectMany(PulledDeliveries.Decode).ToList();
        long[] expected = [0, 2, 4, 5, 7, 8, 9];
        Assert.Equal(expected, second.Select(d => d.Message.Offset));
        Assert.Equal(expected, answers.SelectMany(a => a.Leases).Select(l => l.Offset));
        Assert.All(second, d => Assert.Equal(2, d.Attempt));
        Assert.Equal(second.Count, second.Select(d => d.LeaseId).Distinct().Count());
        foreach (var d in second)
        {
            Assert.Equal($"k{d.Message.Offset}", Encoding.UTF8.GetString(d.Message.Key!));
            Assert.Equal($"m{d.Message.Offset}", Encoding.UTF8.GetString(d.Message.Payload.Span));
        }
        if (answers.Count == 1)
        {
            // Messages that went back were read again, each into a buffer of its own (so that one kept message does not
            // pin a whole read): one batch each, under a copy of its source batch's header.
            var batches = StoredBatches.Split(answers[0].Records);
            Assert.Equal([1, 1, 1, 1, 1, 1, 1], batches.Select(b => new RecordBatch(b).RecordCount));
            Assert.All(batches, b => Assert.Null(RecordBatchCodec.Validate(b.Span, b.Length)));
            Assert.Equal("h7", Encoding.UTF8.GetString(new RecordBatch(batches[4]).First().GetHeaders().Single().Value.Span));
        }
    }

    [Fact]
    public async Task APullRunsAnswer_NamesItsLeasesAsRuns_WithAttemptsOnlyWhereNotOne_AroundAckedGaps()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        var partition = Grains.GetGrain<IPartitionGrain>($"{topic}/0");
        await partition.AppendAsync(new MessageBatch([.. Enumerable.Range(0, 5).Select(Keyed)]));
        await partition.AppendAsync(new MessageBatch([.. Enumerable.Range(5, 5).Select(Keyed)]));
        // Through the external client, as the SDK calls it: the answer crosses the wire.
        var cursor = fixture.Cluster.Client.GetGrain<IPartitionCursorGrain>($"{topic}/g/0");

        var first = await PullRunsAsync(cursor, "A", 10);
        Assert.All(first, a => Assert.Empty(a.Redeliveries)); // first deliveries: no attempt carried
        Assert.All(first, a => Assert.Single(a.Runs)); // one pull of consecutive offsets is one run
        var firstDecoded = first.SelectMany(PulledDeliveries.Decode).ToList();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), firstDecoded.Select(d => d.Message.Offset));
        Assert.All(firstDecoded, d => Assert.Equal(1, d.Attempt));

        // Acked 1, 3 and 6 leave gaps; the rest comes back as second attempts.
        Assert.Empty(await cursor.AckAsync("A", [.. firstDecoded.Where(d => d.Message.Offset is 1 or 3 or 6).Select(d => d.Ref)]));
        Assert.Empty((await cursor.NackAsync("A", [.. firstDecoded.Where(d => d.Message.Offset is not (1 or 3 or 6)).Select(d => d.Ref)], TimeSpan.Zero)).Refused);

        var second = await PullRunsAsync(cursor, "B", 7);
        var decoded = second.SelectMany(PulledDeliveries.Decode).ToList();
        Assert.Equal([0L, 2, 4, 5, 7, 8, 9], decoded.Select(d => d.Message.Offset));
        Assert.All(decoded, d => Assert.Equal(2, d.Attempt));
        Assert.Equal(decoded.Select(d => d.Message.Offset), second.SelectMany(a => a.Redeliveries).Select(r => r.Offset));
        if (second.Count == 1) Assert.Equal([(0L, 1), (2L, 1), (4L, 2), (7L, 3)], second[0].Runs.Select(r => (r.Offset, r.Count)));
        // The runs' lease ids are the ones the cursor takes acks by.
        Assert.Empty(await cursor.AckRunsAsync("B", [.. second.SelectMany(a => a.Runs)]));
        Assert.Equal(0, (await Grains.GetGrain<IPartitionCursorGrain>($"{topic}/g/0").DescribeAsync()).InFlight);
    }

    [Fact]
    public async Task AClientOfTheEarlierVersion_StillPullsWithPullAsync_AndGetsEveryLeaseAsARecord()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        var partition = Grains.GetGrain<IPartitionGrain>($"{topic}/0");
        await partition.AppendAsync(new MessageBatch([.. Enumerable.Range(0, 6).Select(Keyed)]));
        var cursor = fixture.Cluster.Client.GetGrain<IPartitionCursorGrain>($"{topic}/g/0");

        // The earlier client's calls: PullAsync answered with a LeasedRecord per record, acked with AckAsync.
        var old = await PullAsync(cursor, "A", 3);
        var oldDecoded = old.SelectMany(PulledDeliveries.Decode).ToList();
        Assert.Equal([0L, 1, 2], oldDecoded.Select(d => d.Message.Offset));
        Assert.Equal(oldDecoded.Select(d => d.Message.Offset), old.SelectMany(a => a.Leases).Select(l => l.Offset));
        // A new client on the same group at the same time: the two forms share one lease numbering.
        var current = await PullRunsAsync(cursor, "B", 3);
        var currentDecoded = current.SelectMany(PulledDeliveries.Decode).ToList();
        Assert.Equal([3L, 4, 5], currentDecoded.Select(d => d.Message.Offset));
        Assert.True(currentDecoded.Min(d => d.LeaseId) > oldDecoded.Max(d => d.LeaseId));
        Assert.Empty(await cursor.AckAsync("A", [.. old.SelectMany(a => a.Leases).Select(l => l.Ref)]));
        Assert.Empty(await cursor.AckRunsAsync("B", [.. current.SelectMany(a => a.Runs)]));
        Assert.Equal(0, (await Grains.GetGrain<IPartitionCursorGrain>($"{topic}/g/0").DescribeAsync()).InFlight);
    }

    /// <summary>As <see cref="PullAsync"/>, through <see cref="IPartitionCursorGrain.PullRunsAsync"/>.</summary>
    private static async Task<List<LeasedBatches>> PullRunsAsync(IPartitionCursorGrain cursor, string member, int count)
    {
        var answers = new List<LeasedBatches>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (answers.Sum(Count) < count && DateTime.UtcNow < deadline)
        {
            var answer = await cursor.PullRunsAsync(member, count - answers.Sum(Count), NoExpiry, TimeSpan.FromSeconds(1));
            if (Count(answer) > 0) answers.Add(answer);
        }
        Assert.Equal(count, answers.Sum(Count));
        return answers;

        static int Count(LeasedBatches answer) => answer.Runs.Sum(r => r.Count);
    }

    [Fact]
    public async Task AMessageConsumedThroughTheLazyPath_Rejected_AppearsInTheDeadLetterTopicAndListing_WithItsKeyHeadersAndPayload()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using var producer = Client.CreateProducer(topic);
        var headers = new Dictionary<string, byte[]> { ["app"] = "1"u8.ToArray(), ["trace"] = [0, 255, 7] };
        byte[] payload = [.. Enumerable.Range(0, 3000).Select(i => (byte)(i * 7))];
        var sent = await producer.SendAsync(new OutgoingMessage(payload) { Key = "lazy-key", Headers = headers });

        await using (var consumer = Client.CreateConsumer(topic, "g", new ConsumerOptions { AckTimeout = NoExpiry }))
        {
            var received = Assert.Single(await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.RejectAsync()));
            // What the consumer saw: views over the pull's buffer.
            Assert.Equal("lazy-key", received.Key);
            Assert.Equal(payload, received.Payload.ToArray());
            Assert.Equal(headers["trace"], received.Headers["trace"]);
            Assert.Equal(1, received.DeliveryAttempt);
        }

        await Eventually.UntilAsync(async () => (await Client.Admin.ListDeadLettersAsync(topic, "g")).Length == 1);
        var letter = Assert.Single(await Client.Admin.ListDeadLettersAsync(topic, "g"));
        Assert.Equal("rejected", letter.Reason);
        Assert.Equal(sent.Offset, letter.SourceOffset);
        Assert.Equal(1, letter.Attempts);
        Assert.IsType<MessageView>(letter.Message);
        Assert.Equal("lazy-key", letter.Message.Key);
        Assert.Equal(payload, letter.Message.Payload.ToArray());
        Assert.Equal(headers["app"], letter.Message.Headers["app"]);
        Assert.Equal(headers["trace"], letter.Message.Headers["trace"]);
        Assert.Equal(letter.Offset, letter.Message.Offset);
        Assert.Equal(letter.Partition, letter.Message.Partition);
        Assert.Equal(1, letter.Message.DeliveryAttempt);

        // Consumed from the dead-letter topic, the letter has the same key, headers and payload.
        await using var dlq = Client.CreateConsumer($"{topic}.g.dlq", "inspect", new ConsumerOptions { AckTimeout = NoExpiry });
        var consumed = Assert.Single(await Eventually.CollectAsync(dlq.ReadAllAsync(), r => r.Count >= 1, onEach: m => m.AckAsync()));
        Assert.Equal("lazy-key", consumed.Key);
        Assert.Equal(payload, consumed.Payload.ToArray());
        Assert.Equal(headers["trace"], consumed.Headers["trace"]);
        Assert.Equal("rejected", consumed.HeaderText(GranaryHeaders.DeadLetterReason));
    }

    [Fact]
    public async Task AnExpiredMessage_DeadLettersWithItsKeyHeadersAndPayload_FromTheCursorsBytes()
    {
        string topic = BrokerClusterFixture.UniqueTopic();
        await Client.Admin.CreateTopicAsync(topic);
        await using (var joining = Client.CreateConsumer(topic, "g")) await joining.StartAsync(); // the group, with no member
        await using var producer = Client.CreateProducer(topic);
        var sent = await producer.SendAsync(new OutgoingMessage("short-lived"u8.ToArray())
        {
            Key = "ttl-key",
            Headers = new Dictionary<string, byte[]> { ["app"] = "x"u8.ToArray() },
            TimeToLive = TimeSpan.FromMilliseconds(500),
        });
        // Leased (if the pull comes before it expires) and never answered: the lease runs out after the message
        // expired, so it leaves as expired; a pull that comes later finds it expired and dead-letters it at once.
        var cursor = Grains.GetGrain<IPartitionCursorGrain>($"{topic}/g/0");
        var held = await cursor.PullDecodedAsync("A", 1, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(1));
        Assert.All(held, d => Assert.Equal(sent.Offset, d.Message.Offset));

        await Eventually.UntilAsync(async () => (await Client.Admin.ListDeadLettersAsync(topic, "g")).Length == 1, TimeSpan.FromSeconds(60));
        var letter = Assert.Single(await Client.Admin.ListDeadLettersAsync(topic, "g"));
        Assert.Equal("expired", letter.Reason);
        Assert.Equal("ttl-key", letter.Message.Key);
        Assert.Equal("short-lived"u8.ToArray(), letter.Message.Payload.ToArray());
        Assert.Equal("x"u8.ToArray(), letter.Message.Headers["app"]);
    }
}
