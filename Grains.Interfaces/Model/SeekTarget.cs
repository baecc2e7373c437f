namespace Granary.Client;

/// <summary>Where <c>Seek</c> moves a consumer group.</summary>
public enum SeekKind
{
    /// <summary>The earliest retained message: replay everything.</summary>
    Earliest = 0,
    /// <summary>The end: skip the whole backlog.</summary>
    Latest = 1,
    /// <summary>A given offset.</summary>
    Offset = 2,
    /// <summary>The first message stored at or after a time.</summary>
    Timestamp = 3,
}

/// <summary>A seek target: a kind, a value (offset or Unix milliseconds) and, for offsets, an optional partition.</summary>
[GenerateSerializer, Immutable, Alias("granary.SeekTarget")]
public sealed record SeekTarget([property: Id(0)] SeekKind Kind, [property: Id(1)] long Value = 0, [property: Id(2)] int? Partition = null)
{
    /// <summary>Every partition to its earliest retained message.</summary>
    public static SeekTarget Earliest { get; } = new(SeekKind.Earliest);

    /// <summary>Every partition to its end.</summary>
    public static SeekTarget Latest { get; } = new(SeekKind.Latest);

    /// <summary>One partition (or, with null, every partition) to <paramref name="offset"/>.</summary>
    public static SeekTarget ToOffset(long offset, int? partition = null) => new(SeekKind.Offset, offset, partition);

    /// <summary>Every partition to its first message stored at or after <paramref name="time"/>.</summary>
    public static SeekTarget ToTimestamp(DateTimeOffset time) => new(SeekKind.Timestamp, time.ToUnixTimeMilliseconds());
}
