namespace Granary.Client;

/// <summary>How far a consumer group is behind, per partition.</summary>
/// <param name="Topic">Topic.</param>
/// <param name="Group">Group.</param>
/// <param name="Partitions">One entry per partition.</param>
[GenerateSerializer, Immutable, Alias("granary.GroupLag")]
public sealed record GroupLag([property: Id(0)] string Topic, [property: Id(1)] string Group, [property: Id(2)] PartitionLag[] Partitions)
{
    /// <summary>Unacknowledged messages over all partitions.</summary>
    public long TotalLag => Partitions.Sum(p => p.Lag);
}

/// <summary>A group's position on one partition.</summary>
/// <param name="Partition">Partition number.</param>
/// <param name="EndOffset">The partition's confirmed end.</param>
/// <param name="CommittedOffset">Every offset below this is acknowledged (or expired, dead-lettered, skipped).</param>
/// <param name="Lag">Messages stored and not yet acknowledged: <c>EndOffset - CommittedOffset</c> minus those acknowledged above it.</param>
/// <param name="InFlight">Messages leased to members now.</param>
/// <param name="OldestUnackedTimestampMs">Broker timestamp of the oldest unacknowledged message; null when there is none.</param>
/// <param name="Expired">Messages that expired before this group acknowledged them (since the group was created).</param>
/// <param name="DeadLettered">Messages this group sent to its dead-letter topic (expired ones included).</param>
/// <param name="Skipped">Messages retention deleted before this group acknowledged them (overflow <c>DropOldest</c>).</param>
[GenerateSerializer, Immutable, Alias("granary.PartitionLag")]
public sealed record PartitionLag(
    [property: Id(0)] int Partition,
    [property: Id(1)] long EndOffset,
    [property: Id(2)] long CommittedOffset,
    [property: Id(3)] long Lag,
    [property: Id(4)] int InFlight,
    [property: Id(5)] long? OldestUnackedTimestampMs,
    [property: Id(6)] long Expired,
    [property: Id(7)] long DeadLettered,
    [property: Id(8)] long Skipped)
{
    /// <summary>Age of the oldest unacknowledged message at <paramref name="now"/>; zero when there is none.</summary>
    public TimeSpan OldestUnackedAge(DateTimeOffset now) =>
        OldestUnackedTimestampMs is { } ms ? TimeSpan.FromMilliseconds(Math.Max(0, now.ToUnixTimeMilliseconds() - ms)) : TimeSpan.Zero;
}

/// <summary>A consumer group as it is now.</summary>
/// <param name="Topic">Topic.</param>
/// <param name="Group">Group.</param>
/// <param name="Settings">Its settings.</param>
/// <param name="Members">Ids of the connected members.</param>
/// <param name="Assignment">Under <see cref="DeliveryMode.Ordered"/>, partition → member; empty otherwise.</param>
[GenerateSerializer, Immutable, Alias("granary.GroupDescription")]
public sealed record GroupDescription(
    [property: Id(0)] string Topic,
    [property: Id(1)] string Group,
    [property: Id(2)] GroupSettings Settings,
    [property: Id(3)] string[] Members,
    [property: Id(4)] Dictionary<int, string> Assignment);
