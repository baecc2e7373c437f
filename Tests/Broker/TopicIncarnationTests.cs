using Granary.Records;
using Granary.Grains.Hosting;
using Granary.Grains.Partitions;
using Granary.Grains.Topics;
using Granary.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Granary.Tests.Broker;

/// <summary>
/// A topic has an identity (<see cref="TopicConfig.Incarnation"/>) in its storage paths and in its groups' and
/// cursors' state: a topic created again under a name never serves the earlier topic's messages or positions, and
/// topics written before incarnations existed still open where they were written.
/// </summary>
public sealed class TopicIncarnationTests
{
    // A short poll: disposing an idle consumer waits for its pending poll to end (up to PollWait, 5 s by default).
    private static readonly ConsumerOptions NoExpiry = new() { AckTimeout = ClientTestExtensions.NoExpiry, PollWait = TimeSpan.FromMilliseconds(200) };

    /// <summary>
    /// The repro: the topic's state file is lost, the topic is created again under its name. Before the fix the
    /// new topic served the old log (end offset 12) and group g resumed at the old committed offset 5.
    /// </summary>
    [Fact]
    public async Task TopicStateLost_CreatedAgain_ServesNoOldMessagesAndNoOldCursorPositions()
    {
        using var data = new TempDirectory();
        await using (var silo = await SiloOnDirectory.StartAsync(data.Path))
        {
            await silo.Client.Admin.CreateTopicAsync("orders");
            await using (var producer = silo.Client.CreateProducer("orders"))
            {
                for (int i = 0; i < 10; i++) await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"old-{i}")));
            }
            await using (var consumer = silo.Client.CreateConsumer("orders", "g", NoExpiry))
            {
                await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 5, onEach: async m => { if (m.Offset < 5) await m.AckAsync(); });
                await Eventually.UntilAsync(async () => (await silo.Client.Admin.GetLagAsync("orders", "g")).Partitions[0].CommittedOffset == 5);
            }
        }
        // Lose the topic's state, its previous copy too (only it: the group's and the cursor's state, and the log, stay).
        string topicStates = Path.Combine(data.Path, "state", "granarytopic");
        Assert.Single(Directory.GetFiles(topicStates, "*.state"));
        foreach (string file in Directory.GetFiles(topicStates)) File.Delete(file);

        await using var restarted = await SiloOnDirectory.StartAsync(data.Path);
        await restarted.Client.Admin.CreateTopicAsync("orders");
        Assert.Equal(0, (await restarted.Client.Admin.DescribeTopicAsync("orders")).PartitionDetails.Single().EndOffset);
        await using (var producer = restarted.Client.CreateProducer("orders"))
        {
            await producer.SendAsync(new OutgoingMessage("new-0"u8.ToArray()));
            await producer.SendAsync(new OutgoingMessage("new-1"u8.ToArray()));
        }
        await using var again = restarted.Client.CreateConsumer("orders", "g", NoExpiry);
        var received = await Eventually.CollectAsync(again.ReadAllAsync(), r => r.Count >= 2, onEach: m => m.AckAsync());
        Assert.Equal([(0L, "new-0"), (1L, "new-1")], received.Select(m => (m.Offset, Encoding.UTF8.GetString(m.Payload.Span))));
        await Eventually.UntilAsync(async () => (await restarted.Client.Admin.GetLagAsync("orders", "g")).Partitions[0].CommittedOffset == 2);
        var lag = (await restarted.Client.Admin.GetLagAsync("orders", "g")).Partitions.Single();
        Assert.Equal((2L, 0L), (lag.EndOffset, lag.Lag));
    }

    [Fact]
    public async Task DeletedAndCreatedAgain_GetsANewIncarnation_AndTheOldDirectoryIsGone()
    {
        using var data = new TempDirectory();
        await using var silo = await SiloOnDirectory.StartAsync(data.Path);
        await silo.Client.Admin.CreateTopicAsync("Orders", new TopicOptions { Partitions = 2 });
        string first = (await silo.Client.Admin.DescribeTopicAsync("Orders")).Config.Incarnation!;
        Assert.True(PartitionPaths.IsValidIncarnation(first));
        await using (var producer = silo.Client.CreateProducer("Orders"))
            await producer.SendAsync(new OutgoingMessage("old"u8.ToArray()) { Key = "k" });
        Assert.Single(SiloOnDirectory.PartitionDirectories(data.Path, "Orders", 0));

        await silo.Client.Admin.DeleteTopicAsync("Orders");
        Assert.Empty(SiloOnDirectory.PartitionDirectories(data.Path, "Orders", 0));
        Assert.Empty(Directory.GetDirectories(Path.Combine(data.Path, "logs")));

        await silo.Client.Admin.CreateTopicAsync("Orders", new TopicOptions { Partitions = 2 });
        var created = await silo.Client.Admin.DescribeTopicAsync("Orders");
        Assert.NotEqual(first, created.Config.Incarnation);
        Assert.All(created.PartitionDetails, p => Assert.Equal(0, p.EndOffset));
        // Alters keep the identity, whatever the caller sends.
        var altered = await silo.Client.Admin.AlterTopicAsync("Orders", c => c with { RetentionBytes = 1 << 30, Incarnation = first });
        Assert.Equal(created.Config.Incarnation, altered.Incarnation);
        Assert.Equal(created.Config.Incarnation, (await silo.Client.Admin.DescribeTopicAsync("Orders")).Config.Incarnation);
    }

    /// <summary>
    /// Upgrade: a topic whose state has no incarnation (written by the code before incarnations) keeps its log where
    /// that code wrote it, <c>logs/{name}/{partition}</c>, and its group's position.
    /// </summary>
    [Fact]
    public async Task LegacyTopicWithoutIncarnation_OpensItsExistingLog_AndKeepsItsGroupPosition()
    {
        using var data = new TempDirectory();
        string legacyDirectory = Path.Combine(data.Path, "logs", "legacy", "0");
        await using (var log = await PartitionLog.OpenAsync(legacyDirectory, new PartitionLogOptions()))
        {
            for (int i = 0; i < 3; i++)
            {
                using var builder = new RecordBatchBuilder();
                builder.Add(new LogRecord(Encoding.UTF8.GetBytes($"before-{i}")) { TimestampMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
                await log.AppendAsync(builder.Build());
            }
        }

        await using (var silo = await SiloOnDirectory.StartAsync(data.Path))
        {
            // The topic's state as the earlier code stored it: no incarnation.
            var storage = silo.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(Granary.Grains.Hosting.SiloBuilderExtensions.StorageName);
            var topicState = new TestGrainState<TopicState>(new TopicState
            {
                Exists = true,
                Config = new TopicConfig { Partitions = 1, ReplicationFactor = 1, MinInSyncReplicas = 1 },
                CreatedAt = DateTimeOffset.UtcNow,
            });
            await storage.WriteStateAsync("topic", GrainId.Create("granary.topic", "legacy"), topicState);

            Assert.Null((await silo.Client.Admin.DescribeTopicAsync("legacy")).Config.Incarnation);
            Assert.Equal(3, (await silo.Client.Admin.DescribeTopicAsync("legacy")).PartitionDetails.Single().EndOffset);
            await using (var producer = silo.Client.CreateProducer("legacy"))
                await producer.SendAsync(new OutgoingMessage("after"u8.ToArray()));
            await using var consumer = silo.Client.CreateConsumer("legacy", "g", NoExpiry);
            var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 4, onEach: async m => { if (m.Offset < 2) await m.AckAsync(); });
            Assert.Equal(["before-0", "before-1", "before-2", "after"], received.Select(m => Encoding.UTF8.GetString(m.Payload.Span)));
            await Eventually.UntilAsync(async () => (await silo.Client.Admin.GetLagAsync("legacy", "g")).Partitions[0].CommittedOffset == 2);
        }
        Assert.Equal(["legacy"], Directory.GetDirectories(Path.Combine(data.Path, "logs")).Select(Path.GetFileName));

        // After a restart the legacy topic, its log and its group's position are all still there.
        await using var restarted = await SiloOnDirectory.StartAsync(data.Path);
        Assert.Equal(4, (await restarted.Client.Admin.DescribeTopicAsync("legacy")).PartitionDetails.Single().EndOffset);
        await using var again = restarted.Client.CreateConsumer("legacy", "g", NoExpiry);
        var rest = await Eventually.CollectAsync(again.ReadAllAsync(), r => r.Count >= 2, onEach: m => m.AckAsync());
        Assert.Equal(["before-2", "after"], rest.Select(m => Encoding.UTF8.GetString(m.Payload.Span)));
    }

#nullable disable
    private sealed class TestGrainState<T>(T state) : IGrainState<T>
    {
        public T State { get; set; } = state;
        public string ETag { get; set; }
        public bool RecordExists { get; set; }
    }
#nullable restore
}
