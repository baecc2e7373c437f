using System.Globalization;
using System.Text;

namespace Granary.Grains.Partitions;

/// <summary>
/// The one mapping from a topic name, its incarnation and a partition number to the partition's log directory. Safe
/// by construction:
/// <list type="bullet">
/// <item>only valid names (<see cref="Names"/>: no <c>.</c>, <c>..</c>, separators) and well-formed incarnations are
/// mapped, and every resolved path is checked to lie strictly inside the logs directory;</item>
/// <item>two different (name, incarnation) pairs never share a directory, also on a case-insensitive file system: the
/// directory name is the name in lowercase plus <c>@</c> and a hex mask of which characters were uppercase, so
/// <c>Orders</c> is <c>orders@1</c> and <c>orders</c> is <c>orders@0</c> (the mapping is injective, and the <c>@</c>,
/// not allowed in names, keeps these apart from the legacy directories);</item>
/// <item>a topic created again under the same name gets a new incarnation, hence new directories: nothing of the
/// earlier topic is ever opened as the new one's.</item>
/// </list>
/// Layout: <c>{logs}/{encoded name}/{incarnation}/{partition}</c>. Topics created before incarnations existed have
/// none (null) and keep the layout they were written with, <c>{logs}/{name}/{partition}</c>, so existing data opens
/// after an upgrade. This class is thread-safe.
/// </summary>
internal sealed class PartitionPaths
{
    private const int IncarnationLength = 32;

    /// <summary>Maps into <paramref name="logsDirectory"/> (made absolute).</summary>
    public PartitionPaths(string logsDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(logsDirectory);
        Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(logsDirectory));
    }

    /// <summary>The logs directory, absolute, without a trailing separator.</summary>
    public string Root { get; }

    /// <summary>A fresh incarnation id: 32 lowercase hex digits.</summary>
    public static string NewIncarnation() => Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture);

    /// <summary>True for an incarnation id this class maps: 32 lowercase hex digits.</summary>
    public static bool IsValidIncarnation(string? incarnation) =>
        incarnation is { Length: IncarnationLength } && incarnation.All(char.IsAsciiHexDigitLower);

    /// <summary>
    /// The directory name of a topic's current-layout directory: its name in lowercase, <c>@</c>, and the hex digits
    /// of a mask of its uppercase characters (digit <c>k</c> covers characters <c>4k</c> to <c>4k+3</c>, lowest bit
    /// first; trailing zero digits dropped, <c>0</c> when there are none). At most 252 characters for a 200-character name.
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidName"/> for an invalid topic name.</exception>
    public static string EncodeName(string topic)
    {
        Names.Validate(topic, "topic");
        var mask = new char[(topic.Length + 3) / 4];
        int used = 0;
        for (int digit = 0; digit < mask.Length; digit++)
        {
            int bits = 0;
            for (int i = 0; i < 4 && digit * 4 + i < topic.Length; i++)
            {
                if (char.IsAsciiLetterUpper(topic[digit * 4 + i])) bits |= 1 << i;
            }
            mask[digit] = "0123456789abcdef"[bits];
            if (bits != 0) used = digit + 1;
        }
        return new StringBuilder(topic.Length + 1 + Math.Max(used, 1))
            .Append(topic.ToLowerInvariant()).Append('@').Append(used == 0 ? "0" : new string(mask, 0, used)).ToString();
    }

    /// <summary>
    /// The directory holding all partitions of one incarnation of a topic (for a legacy topic, with a null
    /// incarnation, the topic's directory).
    /// </summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidName"/> or <see cref="GranaryErrorCode.InvalidArgument"/> for a name or incarnation this class does not map.</exception>
    public string TopicDirectory(string topic, string? incarnation) =>
        incarnation is null
            ? Inside(Root, LegacyName(topic))
            : Inside(Inside(Root, EncodeName(topic)), CheckedIncarnation(incarnation));

    /// <summary>The log directory of one partition of one incarnation of a topic.</summary>
    /// <exception cref="GranaryException"><see cref="GranaryErrorCode.InvalidName"/> or <see cref="GranaryErrorCode.InvalidArgument"/> for a name, incarnation or partition this class does not map.</exception>
    public string PartitionDirectory(string topic, string? incarnation, int partition)
    {
        if (partition < 0) throw new GranaryException(GranaryErrorCode.InvalidArgument, $"Partition {partition} is negative.");
        return Inside(TopicDirectory(topic, incarnation), partition.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// After a partition's directory was deleted, removes the directories above it that are now empty (the
    /// incarnation's, then the topic's), never the logs directory itself. Best effort: a directory another partition
    /// still uses is not empty and stays.
    /// </summary>
    public void RemoveEmptyParents(string topic, string? incarnation)
    {
        string directory = TopicDirectory(topic, incarnation);
        while (directory.Length > Root.Length && IsStrictlyInside(Root, directory))
        {
            try
            {
                if (!Directory.Exists(directory) || Directory.EnumerateFileSystemEntries(directory).Any()) return;
                Directory.Delete(directory, recursive: false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return; // filled again meanwhile, or not ours to remove
            }
            directory = Path.GetDirectoryName(directory)!;
        }
    }

    // Legacy directories are the bare name; valid names (no separators, not only dots) keep them inside the root.
    private static string LegacyName(string topic)
    {
        Names.Validate(topic, "topic");
        return topic;
    }

    private static string CheckedIncarnation(string incarnation) =>
        IsValidIncarnation(incarnation)
            ? incarnation
            : throw new GranaryException(GranaryErrorCode.InvalidArgument, $"'{incarnation[..Math.Min(incarnation.Length, 64)]}' is not a topic incarnation id.");

    /// <summary>
    /// <paramref name="parent"/>/<paramref name="segment"/>, resolved, and checked to be strictly inside
    /// <paramref name="parent"/>: a segment that is empty, a dot name, rooted or holding a separator is refused
    /// whatever produced it.
    /// </summary>
    private static string Inside(string parent, string segment)
    {
        if (segment.Length == 0 || segment.AsSpan().IndexOfAny(Separators) >= 0 || !segment.AsSpan().ContainsAnyExcept('.'))
            throw new GranaryException(GranaryErrorCode.InvalidName, $"'{segment}' cannot name a directory.");
        string path = Path.GetFullPath(Path.Combine(parent, segment));
        // Also refuses what a file system would normalize (Windows drops trailing dots): the segment must survive as is.
        if (!IsStrictlyInside(parent, path) || Path.GetDirectoryName(path) != parent || Path.GetFileName(path) != segment)
            throw new GranaryException(GranaryErrorCode.InvalidName, $"'{segment}' does not name a directory inside '{parent}'.");
        return path;
    }

    private static bool IsStrictlyInside(string parent, string path) =>
        path.Length > parent.Length + 1
        && path.StartsWith(parent, StringComparison.Ordinal)
        && (path[parent.Length] == Path.DirectorySeparatorChar || path[parent.Length] == Path.AltDirectorySeparatorChar);

    private static readonly char[] Separators = ['/', '\\', ':', '\0'];
}
