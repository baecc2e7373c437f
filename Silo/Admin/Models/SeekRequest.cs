using System.Text.Json.Serialization;

namespace Granary.Silo.Admin.Models;

/// <summary>Where to move a group: <c>earliest</c>, <c>latest</c>, <c>offset</c> (with <see cref="Offset"/>, optionally one
/// <see cref="Partition"/>) or <c>timestamp</c> (with <see cref="Timestamp"/>).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed class SeekRequest
{
    /// <summary><c>earliest</c>, <c>latest</c>, <c>offset</c> or <c>timestamp</c>.</summary>
    public required string To { get; init; }

    /// <summary>With <c>offset</c>: the offset.</summary>
    public long? Offset { get; init; }

    /// <summary>With <c>offset</c>: only this partition; every partition when left out.</summary>
    public int? Partition { get; init; }

    /// <summary>With <c>timestamp</c>: the first message stored at or after this time.</summary>
    public DateTimeOffset? Timestamp { get; init; }
}
