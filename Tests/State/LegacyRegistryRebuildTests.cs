using Granary.Records;
using System.Text;
using Granary.Grains.Hosting;
using Granary.Grains.Topics;
using Granary.Storage;

namespace Granary.Tests.State;

/// <summary>
/// A topic registry damaged right after an upgrade: the topics' own state files are still of the earlier, unframed
/// format (they name no topic), so the rebuild finds those topics by their log directories of the earlier layout.
/// </summary>
public sealed class LegacyRegistryRebuildTests
{
    [Fact]
    public async Task DamagedRegistry_AfterAnUpgrade_IsRebuiltWithTheTopicsOfTheEarlierFormat()
    {
        using var data = new TempDirectory();
        await using (var log = await PartitionLog.OpenAsync(Path.Combine(data.Path, "logs", "legacy", "0"), new PartitionLogOptions()))
        {
            for (int i = 0; i < 3; i++)
            {
                using var builder = new RecordBatchBuilder();
                builder.Add(new LogRecord(Encoding.UTF8.GetBytes($"before-{i}")) { TimestampMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
                await log.AppendAsync(builder.Build());
            }
        }
        // Exactly what the earlier FileGrainStorage wrote for the topic (no frame, no incarnation), and a registry
        // damaged beyond its previous copy.
        string topicFile = StateFileHarness.StatePathIn(data.Path, "topic", StateFileHarness.Topic("legacy"));
        Directory.CreateDirectory(Path.GetDirectoryName(topicFile)!);
        await File.WriteAllBytesAsync(topicFile, StateFileHarness.Serializer.SerializeToArray(new StateEnvelope<TopicState>
        {
            ETag = "1",
            State = new TopicState { Exists = true, Config = new TopicConfig { Partitions = 1, ReplicationFactor = 1, MinInSyncReplicas = 1 }, CreatedAt = DateTimeOffset.UtcNow },
        }));
        string registryFile = StateFileHarness.StatePathIn(data.Path, "topics", StateFileHarness.Registry);
        Directory.CreateDirectory(Path.GetDirectoryName(registryFile)!);
        await File.WriteAllBytesAsync(registryFile, Encoding.UTF8.GetBytes("garbage, not a state file\n"));

        await using var silo = await SiloOnDirectory.StartAsync(data.Path);
        Assert.Equal(["legacy"], await silo.Client.Admin.ListTopicsAsync());
        Assert.Equal(3, (await silo.Client.Admin.DescribeTopicAsync("legacy")).PartitionDetails.Single().EndOffset);
    }
}
