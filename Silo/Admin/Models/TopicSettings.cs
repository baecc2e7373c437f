using Granary.Grains;

namespace Granary.Silo.Admin.Models;

/// <summary>A topic's settings as the admin API shows them; durations in <c>[d.]hh:mm:ss</c>.</summary>
/// <param name="Partitions">Partition count.</param>
/// <param name="MaxMessageBytes">Largest message accepted.</param>
/// <param name="RetentionTime">Age after which whole segments are deleted; null keeps them.</param>
/// <param name="RetentionBytes">Size per partition above which the oldest segments are deleted; null for no limit.</param>
/// <param name="DefaultTimeToLive">Time to live of messages sent without one; null: they never expire.</param>
/// <param name="ExpiredMessages">What happens to expired messages.</param>
/// <param name="Overflow">What retention does to unacknowledged messages.</param>
/// <param name="DedupWindow">Window of the message-id check; null turns it off.</param>
/// <param name="ReplicationFactor">Copies of each partition.</param>
/// <param name="MinInSyncReplicas">Copies that must hold a batch before an acks-all send is confirmed.</param>
public sealed record TopicSettings(
    int Partitions,
    int MaxMessageBytes,
    TimeSpan? RetentionTime,
    long? RetentionBytes,
    TimeSpan? DefaultTimeToLive,
    ExpiredMessageAction ExpiredMessages,
    OverflowPolicy Overflow,
    TimeSpan? DedupWindow,
    int? ReplicationFactor,
    int? MinInSyncReplicas)
{
    internal static TopicSettings From(TopicConfig c) => new(
        c.Partitions, c.MaxMessageBytes, c.RetentionTime, c.RetentionBytes, c.DefaultTimeToLive, c.ExpiredMessages, c.Overflow,
        c.DedupWindow, c.ReplicationFactor, c.MinInSyncReplicas);
}
