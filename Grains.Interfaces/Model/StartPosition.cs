namespace Granary.Client;

/// <summary>Where a new consumer group starts reading.</summary>
public enum StartPosition
{
    /// <summary>At the earliest retained message of each partition.</summary>
    Earliest = 0,
    /// <summary>At the end of each partition when the group is created: only later messages.</summary>
    Latest = 1,
}
