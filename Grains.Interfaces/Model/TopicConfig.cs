namespace Granary.Grains;

/// <summary>The settings of a topic, fixed at creation.</summary>
[GenerateSerializer, Immutable, Alias("granary.TopicConfig")]
public sealed record TopicConfig
{
    /// <summary>Number of partitions; at least 1.</summary>
    [Id(0)] public int Partitions { get; init; } = 1;

    /// <summary>Largest message (payload + key + headers) accepted, in bytes. Default 1 MiB.</summary>
    [Id(1)] public int MaxMessageBytes { get; init; } = 1 << 20;

    /// <summary>Delete whole log segments older than this; null keeps them.</summary>
    [Id(2)] public TimeSpan? RetentionTime { get; init; }

    /// <summary>Delete the oldest log segments while a partition is larger than this; null for no limit.</summary>
    [Id(3)] public long? RetentionBytes { get; init; }

    /// <summary>Throws <see cref="GranaryException"/> (<see cref="ErrorCode.InvalidArgument"/>) for settings out of range.</summary>
    public void Validate()
    {
        if (Partitions is < 1 or > 10_000)
            throw new GranaryException(ErrorCode.InvalidArgument, $"A topic needs between 1 and 10000 partitions; {Partitions} were asked for.");
        if (MaxMessageBytes is < 1 or > 64 << 20)
            throw new GranaryException(ErrorCode.InvalidArgument, $"MaxMessageBytes must be between 1 and {64 << 20}; it is {MaxMessageBytes}.");
        if (RetentionTime is { } time && time <= TimeSpan.Zero)
            throw new GranaryException(ErrorCode.InvalidArgument, $"RetentionTime must be positive; it is {time}.");
        if (RetentionBytes is < 0)
            throw new GranaryException(ErrorCode.InvalidArgument, $"RetentionBytes must not be negative; it is {RetentionBytes}.");
    }
}
