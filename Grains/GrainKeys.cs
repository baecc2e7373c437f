using System.Globalization;

namespace Granary.Grains;

/// <summary>Grain keys. Names cannot contain '/', so it separates the parts unambiguously.</summary>
internal static class GrainKeys
{
    public static string Partition(string topic, int partition) => string.Create(CultureInfo.InvariantCulture, $"{topic}/{partition}");
    public static string Group(string topic, string group) => $"{topic}/{group}";
    public static string Cursor(string topic, string group, int partition) => string.Create(CultureInfo.InvariantCulture, $"{topic}/{group}/{partition}");

    public static (string Topic, int Partition) ParsePartition(string key)
    {
        int slash = key.LastIndexOf('/');
        return (key[..slash], int.Parse(key.AsSpan(slash + 1), CultureInfo.InvariantCulture));
    }

    public static (string Topic, string Group) ParseGroup(string key)
    {
        int slash = key.IndexOf('/', StringComparison.Ordinal);
        return (key[..slash], key[(slash + 1)..]);
    }

    public static (string Topic, string Group, int Partition) ParseCursor(string key)
    {
        var parts = key.Split('/');
        return (parts[0], parts[1], int.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    /// <summary>Topic and partition of a partition or cursor grain key.</summary>
    public static (string Topic, int Partition) TopicAndPartition(string key)
    {
        var parts = key.Split('/');
        return (parts[0], int.Parse(parts[^1], CultureInfo.InvariantCulture));
    }
}
