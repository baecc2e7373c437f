using Granary.Grains;

namespace Granary.Grains.Delivery;

/// <summary>
/// Why a consumer rejected a message, kept (one byte) while the rejected message waits to be read again and
/// dead-lettered; its dead letter carries the matching <see cref="GranaryHeaders.DeadLetterReason"/>.
/// </summary>
internal enum RejectReason : byte
{
    /// <summary>Not rejected.</summary>
    None = 0,
    /// <summary><see cref="GranaryHeaders.Reasons.Rejected"/>: the consumer called it a poison message.</summary>
    Rejected,
    /// <summary><see cref="GranaryHeaders.Reasons.Deserialization"/>: a typed consumer could not read its payload.</summary>
    Deserialization,
}

/// <summary>The reasons a consumer may give, by their header text.</summary>
internal static class RejectReasons
{
    /// <summary>The reason named <paramref name="text"/>; false for one a consumer may not give.</summary>
    public static bool TryParse(string? text, out RejectReason reason)
    {
        reason = text switch
        {
            GranaryHeaders.Reasons.Rejected => RejectReason.Rejected,
            GranaryHeaders.Reasons.Deserialization => RejectReason.Deserialization,
            _ => RejectReason.None,
        };
        return reason != RejectReason.None;
    }

    /// <summary>The header text of <paramref name="reason"/>.</summary>
    public static string ToHeader(this RejectReason reason) =>
        reason == RejectReason.Deserialization ? GranaryHeaders.Reasons.Deserialization : GranaryHeaders.Reasons.Rejected;
}
