using Granary.Grains;

namespace Granary.Silo.Admin.Models;

/// <summary>A topic: its settings, groups, and every partition's offsets, size and replicas.</summary>
/// <param name="Name">Topic name.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="Settings">Its settings.</param>
/// <param name="Groups">Consumer groups reading it.</param>
/// <param name="Messages">Messages retained, over all partitions.</param>
/// <param name="SizeBytes">Bytes on disk (one copy), over all partitions.</param>
/// <param name="EndOffsetSum">Sum of the partitions' end offsets: its change over time is the topic's publish rate.</param>
/// <param name="Partitions">One entry per partition.</param>
public sealed record TopicView(
    string Name,
    DateTimeOffset CreatedAt,
    TopicSettings Settings,
    string[] Groups,
    long Messages,
    long SizeBytes,
    long EndOffsetSum,
    PartitionView[] Partitions)
{
    internal static TopicView From(TopicDescription d) => new(
        d.Name,
        d.CreatedAt,
        TopicSettings.From(d.Config),
        d.Groups,
        d.PartitionDetails.Sum(p => p.EndOffset - p.StartOffset),
        d.PartitionDetails.Sum(p => p.SizeBytes),
        d.PartitionDetails.Sum(p => p.EndOffset),
        [.. d.PartitionDetails.Select(p => new PartitionView(p.Partition, p.StartOffset, p.EndOffset, p.SizeBytes, p.Silo, p.InSyncReplicas)
        {
            Gaps = p.Gaps,
        })]);
}

/// <summary>One partition of a topic.</summary>
/// <param name="Partition">Partition number.</param>
/// <param name="StartOffset">First retained offset.</param>
/// <param name="EndOffset">Offset the next message gets (confirmed end).</param>
/// <param name="SizeBytes">Bytes on disk.</param>
/// <param name="Leader">Address of the silo that leads (hosts) it.</param>
/// <param name="InSyncReplicas">Replicated topics: nodes holding every committed record, the leader first; null otherwise.</param>
public sealed record PartitionView(int Partition, long StartOffset, long EndOffset, long SizeBytes, string Leader, string[]? InSyncReplicas)
{
    /// <summary>Offsets whose records are lost (missing segment file, damaged data), with the reason; empty when healthy.</summary>
    public PartitionGap[] Gaps { get; init; } = [];
}
