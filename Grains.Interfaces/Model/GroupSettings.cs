using Granary.Grains;

namespace Granary.Client;

/// <summary>The settings of a consumer group, given by its members when they join.</summary>
[GenerateSerializer, Immutable, Alias("granary.GroupSettings")]
public sealed record GroupSettings
{
    /// <summary>Where the group starts when it is created. Fixed at creation.</summary>
    [Id(0)] public StartPosition StartPosition { get; init; } = StartPosition.Earliest;

    /// <summary>Delivery mode. A member asking for another mode than the group's is refused while others are connected.</summary>
    [Id(1)] public DeliveryMode Mode { get; init; } = DeliveryMode.Shared;

    /// <summary>Deliveries of one message before it goes to the dead-letter topic; null never dead-letters. Default 20.</summary>
    [Id(2)] public int? MaxDeliveries { get; init; } = 20;

    /// <summary>Dead-letter topic; null for <c>{topic}.{group}.dlq</c>.</summary>
    [Id(3)] public string? DeadLetterTopic { get; init; }

    /// <summary>The dead-letter topic of <paramref name="group"/> on <paramref name="topic"/> under these settings.</summary>
    public string DeadLetterTopicOf(string topic, string group) => DeadLetterTopic ?? $"{topic}.{group}.dlq";

    /// <summary>Throws <see cref="GranaryException"/> (<see cref="GranaryErrorCode.InvalidArgument"/> or <see cref="GranaryErrorCode.InvalidName"/>) for bad settings.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(StartPosition) || !Enum.IsDefined(Mode))
            throw new GranaryException(GranaryErrorCode.InvalidArgument, "Unknown start position or delivery mode.");
        if (MaxDeliveries is < 1)
            throw new GranaryException(GranaryErrorCode.InvalidArgument, $"MaxDeliveries must be at least 1; it is {MaxDeliveries}.");
        if (DeadLetterTopic is not null) Names.Validate(DeadLetterTopic, "dead-letter topic");
    }
}
