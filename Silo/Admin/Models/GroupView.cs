using Granary.Grains;

namespace Granary.Silo.Admin.Models;

/// <summary>A consumer group: settings, members, assignment and lag.</summary>
/// <param name="Topic">Topic it reads.</param>
/// <param name="Group">Group name.</param>
/// <param name="Mode">Delivery mode.</param>
/// <param name="StartPosition">Where it started.</param>
/// <param name="MaxDeliveries">Deliveries before a message is dead-lettered; null never.</param>
/// <param name="DeadLetterTopic">Its dead-letter topic.</param>
/// <param name="Members">Connected members.</param>
/// <param name="Assignment">Ordered mode: partition → member.</param>
/// <param name="Lag">Lag per partition.</param>
public sealed record GroupView(
    string Topic,
    string Group,
    DeliveryMode Mode,
    StartPosition StartPosition,
    int? MaxDeliveries,
    string DeadLetterTopic,
    string[] Members,
    Dictionary<int, string> Assignment,
    LagView Lag)
{
    internal static GroupView From(GroupDescription d, GroupLag lag, DateTimeOffset now) => new(
        d.Topic, d.Group, d.Settings.Mode, d.Settings.StartPosition, d.Settings.MaxDeliveries, d.Settings.DeadLetterTopicOf(d.Topic, d.Group),
        d.Members, d.Assignment, LagView.From(lag, now));
}

/// <summary>How far a group is behind.</summary>
/// <param name="Topic">Topic.</param>
/// <param name="Group">Group.</param>
/// <param name="Total">Unacknowledged messages over all partitions.</param>
/// <param name="InFlight">Messages leased to members now.</param>
/// <param name="OldestUnackedAgeMs">Age of the oldest unacknowledged message, over all partitions; 0 when none.</param>
/// <param name="Partitions">Per partition.</param>
public sealed record LagView(string Topic, string Group, long Total, long InFlight, long OldestUnackedAgeMs, PartitionLagView[] Partitions)
{
    internal static LagView From(GroupLag lag, DateTimeOffset now)
    {
        var partitions = lag.Partitions.Select(p => new PartitionLagView(
            p.Partition, p.EndOffset, p.CommittedOffset, p.Lag, p.InFlight, (long)p.OldestUnackedAge(now).TotalMilliseconds,
            p.Expired, p.DeadLettered, p.Skipped)).ToArray();
        return new(lag.Topic, lag.Group, lag.TotalLag, partitions.Sum(p => (long)p.InFlight),
            partitions.Length == 0 ? 0 : partitions.Max(p => p.OldestUnackedAgeMs), partitions);
    }
}

/// <summary>A group's position on one partition.</summary>
/// <param name="Partition">Partition number.</param>
/// <param name="EndOffset">The partition's confirmed end.</param>
/// <param name="CommittedOffset">Everything below is acknowledged (or expired, dead-lettered, skipped).</param>
/// <param name="Lag">Messages not yet acknowledged.</param>
/// <param name="InFlight">Messages leased now.</param>
/// <param name="OldestUnackedAgeMs">Age of the oldest unacknowledged message; 0 when none.</param>
/// <param name="Expired">Messages that expired before being acknowledged.</param>
/// <param name="DeadLettered">Messages sent to the dead-letter topic.</param>
/// <param name="Skipped">Messages retention deleted before being acknowledged.</param>
public sealed record PartitionLagView(int Partition, long EndOffset, long CommittedOffset, long Lag, int InFlight, long OldestUnackedAgeMs, long Expired, long DeadLettered, long Skipped);

/// <summary>A topic's group, as <c>GET /api/v1/groups</c> lists them.</summary>
/// <param name="Topic">Topic.</param>
/// <param name="Group">Group.</param>
public sealed record GroupRef(string Topic, string Group);
